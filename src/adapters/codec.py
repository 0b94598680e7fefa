"""Events as pydantic models encoded with orjson, personal data sealed per subject.

Named to the application through eventsourcing's ``TRANSCODER_TOPIC`` and ``MAPPER_TOPIC``.
Old stored versions are upcast when read (``upcast_vN_vN+1`` on the event class), never
rewritten.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from adapters.vault import KeyVault
from gridcore.base import upcast

__all__ = ["OrjsonTranscoder", "PydanticMapper", "upcast", "without_personal_data"]

_OPTS = orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Type is not JSON serialisable: {type(obj).__name__}")


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_default, option=_OPTS)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


_EXCLUDE = {"originator_id", "originator_version"}


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic events to stored events and back, sealing ``Personal`` values."""

    vault: KeyVault | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        vault = self.vault
        context = None
        if vault is not None:
            seal = vault.seal_new if domain_event.originator_version == 1 else vault.seal
            context = {"seal": seal}
            erased = getattr(domain_event, "erased_subject_ids", None)
            if erased:
                vault.schedule_erase(erased)
        state = domain_event.model_dump(exclude=_EXCLUDE, context=context)
        version = getattr(cls, "class_version", 1)
        if version > 1:
            state["class_version"] = version
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(cls),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        state: dict[str, Any] = self.transcoder.decode(data)
        state = upcast(cls, state)
        originator_id = stored_event.originator_id
        state["originator_id"] = originator_id if isinstance(originator_id, UUID) else UUID(
            originator_id)
        state["originator_version"] = stored_event.originator_version
        context = {"unseal": self.vault.unseal} if self.vault is not None else None
        return cls.model_validate(state, context=context)


class _Withheld:
    """A stand-in vault that opens nothing: sealed values decode as withheld (every personal
    field None, not marked erased), with no key look-up."""

    def unseal(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"subject_id": data["subject_id"]}


def without_personal_data(mapper: Any) -> PydanticMapper:
    """A mapper for readers that never need personal data (the projections): it decodes the
    same events without looking up a single key."""
    clone = PydanticMapper(transcoder=mapper.transcoder, compressor=mapper.compressor,
                           cipher=mapper.cipher)
    clone.vault = _Withheld()  # type: ignore[assignment]
    return clone
