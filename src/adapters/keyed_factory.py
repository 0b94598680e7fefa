"""What every gridcore store factory adds to eventsourcing's: one key vault, shared by the
mapper (which seals and unseals) and the one application recorder (which writes the keys),
with the key-encryption keys the environment names (``adapters.kek``). A store whose keys
were written before wrapping is migrated when opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
)

from adapters.kek import KeyRing, load_ring
from adapters.vault import KeyVault


class KeyedFactoryMixin:
    """Mix in before an eventsourcing factory whose recorder has ``vault`` and ``load_keys``."""

    _recorder: Any = None

    def _init_vault(self, persistent: bool = True) -> None:
        """``persistent``: keys outlive the process, so they are wrapped with the configured
        KEK; an in-memory store wraps them with a random one of its own."""
        self._recorder = None
        self.vault = KeyVault(self._load_keys, ring=self._key_ring if persistent else None,
                              count=self._keys_by_kek if persistent else None)

    def _key_ring(self) -> KeyRing:
        ring = load_ring(self.env)  # type: ignore[attr-defined]
        ring.check_store(self.application_recorder().sample_key())  # type: ignore[attr-defined]
        return ring

    def _load_keys(self, ids: list[UUID]) -> dict[UUID, bytes]:
        return self.application_recorder().load_keys(ids)  # type: ignore[attr-defined]

    def _keys_by_kek(self) -> dict[bytes | None, int]:
        return self.application_recorder().keys_by_kek()  # type: ignore[attr-defined]

    def mapper(self, transcoder: Transcoder | None = None,
               mapper_class: type[Mapper[Any]] | None = None) -> Mapper[Any]:
        mapper = super().mapper(transcoder, mapper_class)  # type: ignore[misc]
        mapper.vault = self.vault
        return mapper

    def event_store(self, mapper: Mapper[Any] | None = None,
                    recorder: AggregateRecorder | None = None) -> EventStore[Any]:
        return BatchEventStore(mapper=mapper or self.mapper(),  # type: ignore[attr-defined]
                               recorder=recorder or self.application_recorder())

    def application_recorder(self) -> ApplicationRecorder:
        if self._recorder is None:
            recorder = super().application_recorder()  # type: ignore[misc]
            recorder.vault = self.vault
            self._recorder = recorder
            if self.env_create_table() and recorder.has_raw_keys():  # type: ignore[attr-defined]
                recorder.rewrap_keys(self.vault.ring)
        return self._recorder


class BatchEventStore(EventStore[Any]):
    """eventsourcing's event store, handing back recordings made when asked: a bulk
    registration of 10,000 households built 11,000 recordings (and their notifications) to
    read the last one's notification id."""

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[Any]]:
        stored = list(map(self.mapper.to_stored_event, domain_events))
        ids = self.recorder.insert_events(stored, **kwargs)
        if not ids:
            return []
        assert len(ids) == len(stored)
        return _Recordings(domain_events, stored, ids)  # type: ignore[return-value]


class _Recordings(Sequence[Recording[Any]]):
    """The recordings of one save, each made when it is read."""

    def __init__(self, events: Sequence[Any], stored: list[StoredEvent],
                 ids: Sequence[int]) -> None:
        self._events, self._stored, self._ids = events, stored, ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Recording[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[Recording[Any]]: ...

    def __getitem__(self, index: int | slice) -> Recording[Any] | list[Recording[Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        s = self._stored[index]
        return Recording(self._events[index], Notification(
            originator_id=s.originator_id, originator_version=s.originator_version,
            topic=s.topic, state=s.state, id=self._ids[index]))
