"""Events as pydantic models encoded with orjson, personal data sealed per subject.

Named to the application through eventsourcing's ``TRANSCODER_TOPIC`` and ``MAPPER_TOPIC``.
Old stored versions are upcast when read (``upcast_vN_vN+1`` on the event class), never
rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from adapters.vault import KeyVault, Seal
from gridcore.base import upcast
from gridcore.household import Household, Member
from gridcore.identity import Address, ResidentIdentity

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
        seal = None
        if vault is not None:
            # the aggregate: a bulk save stores the keys its first event makes as one row
            pack = domain_event.originator_id
            seal = vault.sealer(pack, new=domain_event.originator_version == 1)
            context = {"seal": seal}
            if _erases(cls):
                erased = domain_event.erased_subject_ids
                if erased:
                    vault.schedule_erase(erased, pack)
        direct = _DIRECT.get(cls)
        if direct is not None:
            state = direct(domain_event, seal)
        else:
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
        context = None
        vault = self.vault
        if vault is not None:
            pack = state["originator_id"]  # whose pack may hold the keys (see KeyVault)
            context = {"unseal": lambda data: vault.unseal(data, pack)}
        return cls.model_validate(state, context=context)


_ERASES: dict[type, bool] = {}


def _erases(cls: type) -> bool:
    """Whether events of ``cls`` name subjects to erase (``erased_subject_ids``), looked up
    once per class: ``getattr`` of a missing attribute on a pydantic model goes through its
    ``__getattr__`` and an exception, 5% of storing a bulk registration."""
    found = _ERASES.get(cls)
    if found is None:
        found = _ERASES[cls] = hasattr(cls, "erased_subject_ids")
    return found




def _personal(value: Any, fields: tuple[str, ...], seal: Seal | None) -> dict[str, Any]:
    """``Personal.model_dump`` (sealed unless erased) of a model whose fields after
    ``subject_id`` and ``erased`` are ``fields``, each a str, a str subclass or None."""
    data: dict[str, Any] = {"subject_id": value.subject_id, "erased": value.erased}
    for name in fields:
        item = value.__dict__[name]
        data[name] = item if item is None or type(item) is str else str.__str__(item)
    if seal is None or value.erased:
        return data
    return seal(value.subject_id, data)


def _registered_state(event: Household.Registered, seal: Seal | None) -> dict[str, Any]:
    """``model_dump`` of a registration (the bulk of every batch), built directly: pydantic's
    serializer calls back into Python for each sealed value. For 10,000 registrations that
    took 0.25 s against 0.21 s (sealing itself is most of both), 4-5% of the registration's
    CPU. The same dict, so the same stored bytes (tests/stores/test_codec_direct.py holds
    both to it)."""
    identity = _PERSONAL_FIELDS[ResidentIdentity]
    return {
        "timestamp": event.timestamp,
        "household_no": event.household_no,
        "micro_grid": event.micro_grid,
        "building_id": event.building_id,
        "address": _personal(event.address, _PERSONAL_FIELDS[Address], seal),
        "members": [{"resident_id": m.resident_id,
                     "identity": _personal(m.identity, identity, seal),
                     "birth_year": m.birth_year,
                     "vulnerabilities": list(m.vulnerabilities)} for m in event.members],
    }


_PERSONAL_FIELDS = {ResidentIdentity: ("name", "phone", "id_number"), Address: ("text",)}


def _direct_encoders() -> dict[type, Callable[[Any, Seal | None], dict[str, Any]]]:
    """The direct encoders whose models still have exactly the fields they were written for
    (a field added to one of them turns its encoder off until the encoder follows)."""
    shapes: list[tuple[type[BaseModel], tuple[str, ...]]] = [
        (Household.Registered, ("originator_id", "originator_version", "timestamp",
                                "household_no", "micro_grid", "building_id", "address",
                                "members")),
        (Member, ("resident_id", "identity", "birth_year", "vulnerabilities")),
        *((model, ("subject_id", "erased", *fields))
          for model, fields in _PERSONAL_FIELDS.items()),
    ]
    current = all(tuple(model.model_fields) == fields for model, fields in shapes)
    same_version = getattr(Household.Registered, "class_version", 1) == 1
    return {Household.Registered: _registered_state} if current and same_version else {}


_DIRECT = _direct_encoders()


class _Withheld:
    """A stand-in vault that opens nothing: sealed values decode as withheld (every personal
    field None, not marked erased), with no key look-up."""

    def unseal(self, data: dict[str, Any], pack: UUID | None = None) -> dict[str, Any]:
        return {"subject_id": data["subject_id"]}


def without_personal_data(mapper: Any) -> PydanticMapper:
    """A mapper for readers that never need personal data (the projections): it decodes the
    same events without looking up a single key."""
    clone = PydanticMapper(transcoder=mapper.transcoder, compressor=mapper.compressor,
                           cipher=mapper.cipher)
    clone.vault = _Withheld()  # type: ignore[assignment]
    return clone
