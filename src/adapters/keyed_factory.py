"""What every gridcore store factory adds to eventsourcing's: one key vault, shared by the
mapper (which seals and unseals) and the one application recorder (which writes the keys),
with the key-encryption keys the environment names (``adapters.kek``). A store whose keys
were written before wrapping is migrated when opened."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Transcoder

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

    def application_recorder(self) -> ApplicationRecorder:
        if self._recorder is None:
            recorder = super().application_recorder()  # type: ignore[misc]
            recorder.vault = self.vault
            self._recorder = recorder
            if self.env_create_table() and recorder.has_raw_keys():  # type: ignore[attr-defined]
                recorder.rewrap_keys(self.vault.ring)
        return self._recorder
