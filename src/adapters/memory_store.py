"""The in-memory store (unit tests): eventsourcing's POPO recorders plus a key table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import popo
from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from adapters.keyed_factory import KeyedFactoryMixin
from adapters.vault import KeyVault, MemoryKeyTable


class MemoryApplicationRecorder(popo.POPOApplicationRecorder):
    def __init__(self, keys: MemoryKeyTable, vault: KeyVault) -> None:
        super().__init__()
        self.keys, self.vault = keys, vault

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        try:
            with self._database_lock:
                self._assert_uniqueness(stored_events, **kwargs)
                new, _ = self.vault.take_pending_stored()
                self.keys.write(new, self.vault)
                ids = self._update_table(stored_events, **kwargs)
        except BaseException:
            self.vault.rolled_back()
            raise
        self.vault.committed()
        self._notify_listeners()
        return ids


class Factory(KeyedFactoryMixin, popo.POPOFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.keys = MemoryKeyTable()
        self._init_vault(persistent=False)

    def _load_keys(self, ids: list[UUID]) -> dict[UUID, bytes]:
        return self.keys.load(ids)

    def application_recorder(self) -> ApplicationRecorder:
        return MemoryApplicationRecorder(self.keys, self.vault)
