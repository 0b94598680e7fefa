"""Per-subject keys for crypto-shredding (the law's deletion duty).

Each data subject (a resident, or a household's address) has its own AES-256-GCM key, kept in
a key table of the same database as the events. New keys and erasures are written by the
recorder in the same transaction as the events that need them, so a rolled-back command leaves
neither a key nor a lost one. Destroying a key makes that subject's sealed fields unreadable.

The key table holds every key wrapped with a key-encryption key kept outside the database
(``adapters.kek``): the database file alone opens nothing.
"""

from __future__ import annotations

import os
import threading
import time
from base64 import b64decode, b64encode
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.kek import KeyRing, UnknownKek, reread

KEY_TABLE = "gridcore_subject_keys"


class KeyVault:
    """Keys by subject id, with a bounded cache and per-thread pending writes.

    ``load`` reads the stored (wrapped) keys from the backing table and ``ring`` gives the
    key-encryption keys that unwrap them (asked for once, at the first key used: a reader that
    never opens personal data needs no KEK); the recorder writes ``take_pending_stored()``
    inside the events' transaction; ``committed``/``rolled_back`` settle the pending work.

    The KEKs are looked at again (``fresh_ring``: a ``stat`` of the KEK file) before each save
    that wraps new keys, and when a stored key names a KEK not known yet, so a process that
    runs through a ``gridcore keys rotate`` wraps with the new KEK and reads what the rotation
    re-wrapped. ``count`` (optional) tells how many stored keys each KEK id wraps, for the
    refusal of a key no known KEK opens.
    """

    cache_size = 200_000

    def __init__(self, load: Callable[[list[UUID]], dict[UUID, bytes]],
                 cache_seconds: float | None = None,
                 ring: Callable[[], KeyRing] | None = None,
                 count: Callable[[], dict[bytes | None, int]] | None = None) -> None:
        self._load_stored = load
        self._ring_source = ring
        self._count = count
        self._ring: KeyRing | None = None
        # Another process may erase a key at any time; a cached key would keep decrypting
        # for as long as it is cached. The default (0) reads the key table every time.
        self.cache_seconds = (float(os.environ.get("GRIDCORE_KEY_CACHE_SECONDS", "0"))
                              if cache_seconds is None else cache_seconds)
        self._cache: OrderedDict[UUID, tuple[bytes | None, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()

    # pending work of this thread's current save
    def _pending(self) -> tuple[dict[UUID, bytes], set[UUID]]:
        local = self._local
        if not hasattr(local, "new"):
            local.new, local.erase = {}, set()
        return local.new, local.erase

    def take_pending(self) -> tuple[dict[UUID, bytes], set[UUID]]:
        new, erase = self._pending()
        return dict(new), set(erase)

    def take_pending_stored(self) -> tuple[dict[UUID, bytes], set[UUID]]:
        """The pending new keys as the key table stores them (wrapped), and the erasures."""
        new, erase = self._pending()
        if not new:
            return {}, set(erase)
        ring = self.fresh_ring()
        return {sid: ring.wrap(sid, key) for sid, key in new.items()}, set(erase)

    def fresh_ring(self) -> KeyRing:
        """The KEKs, read again when their file was written since (see the class)."""
        ring = reread(self.ring)
        self._ring = ring
        return ring

    @property
    def ring(self) -> KeyRing:
        if self._ring is None:
            if self._ring_source is None:
                from adapters.kek import ephemeral_ring

                self._ring = ephemeral_ring()
            else:
                self._ring = self._ring_source()
        return self._ring

    def use_ring(self, ring: KeyRing) -> None:
        """Replace the key-encryption keys (a rotation, or a test); cached keys stay valid."""
        self._ring = ring

    def _load(self, ids: list[UUID]) -> dict[UUID, bytes]:
        stored = self._load_stored(ids)
        if not stored:
            return {}
        ring = self.ring
        try:
            return {sid: ring.unwrap(sid, blob) for sid, blob in stored.items()}
        except UnknownKek:
            ring = self.fresh_ring()
        try:
            return {sid: ring.unwrap(sid, blob) for sid, blob in stored.items()}
        except UnknownKek as e:
            sid = next((s for s, blob in stored.items() if blob[1:1 + len(e.kid)] == e.kid),
                       next(iter(stored)))
            affected = None
            if self._count is not None:
                try:
                    affected = self._count().get(e.kid)
                except Exception:  # the count only adds to the message
                    affected = None
            raise ring.unreadable(sid, e.kid, affected) from None

    def committed(self) -> None:
        new, erase = self._pending()
        with self._lock:
            if len(new) < self.cache_size // 4:  # a bulk load would only churn the cache
                for sid, key in new.items():
                    self._remember(sid, key)
            for sid in erase:
                self._remember(sid, None)
        new.clear()
        erase.clear()

    def rolled_back(self) -> None:
        new, erase = self._pending()
        new.clear()
        erase.clear()

    def _remember(self, sid: UUID, key: bytes | None) -> None:
        if self.cache_seconds <= 0:
            return
        self._cache[sid] = (key, time.monotonic() + self.cache_seconds)
        self._cache.move_to_end(sid)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _aead(self, sid: UUID, create: bool) -> AESGCM | None:
        new, erase = self._pending()
        if sid in erase:
            return None
        if sid in new:
            return AESGCM(new[sid])
        with self._lock:
            entry = self._cache.get(sid)
            if entry is not None and entry[1] < time.monotonic():
                del self._cache[sid]
                entry = None
            if entry is not None:
                if entry[0] is not None:
                    return AESGCM(entry[0])
                if not create:
                    return None
        found = self._load([sid]).get(sid)
        if found is not None:
            with self._lock:
                self._remember(sid, found)
            return AESGCM(found)
        if not create:
            return None
        key = AESGCM.generate_key(bit_length=256)
        new[sid] = key
        return AESGCM(key)

    def seal_new(self, sid: UUID, data: dict[str, Any]) -> dict[str, Any]:
        """Seal a subject that is created by this event (no look-up: its key is new)."""
        rnd = os.urandom(44)
        key, nonce = rnd[:32], rnd[32:]
        self._pending()[0][sid] = key
        blob = AESGCM(key).encrypt(nonce, orjson.dumps(data, default=_default), sid.bytes)
        return {"subject_id": data["subject_id"], "sealed": b64encode(nonce + blob).decode()}

    def seal(self, sid: UUID, data: dict[str, Any]) -> dict[str, Any]:
        aead = self._aead(sid, create=True)
        assert aead is not None
        return _seal(aead, sid, data)

    def unseal(self, data: dict[str, Any]) -> dict[str, Any] | None:
        sid = UUID(data["subject_id"])
        aead = self._aead(sid, create=False)
        if aead is None:
            return None
        blob = b64decode(data["sealed"])
        try:
            plain = aead.decrypt(blob[:12], blob[12:], sid.bytes)
        except InvalidTag:
            return None
        return orjson.loads(plain)

    def schedule_erase(self, subject_ids: Iterable[UUID]) -> None:
        new, erase = self._pending()
        for sid in subject_ids:
            new.pop(sid, None)
            erase.add(sid)

    def forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()


def _seal(aead: AESGCM, sid: UUID, data: dict[str, Any]) -> dict[str, Any]:
    nonce = os.urandom(12)
    blob = nonce + aead.encrypt(nonce, orjson.dumps(data, default=_default), sid.bytes)
    return {"subject_id": data["subject_id"], "sealed": b64encode(blob).decode()}


def _default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot encode {type(obj).__name__}")


class MemoryKeyTable:
    """The key table of the in-memory store."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes] = {}
        self.lock = threading.Lock()

    def load(self, ids: list[UUID]) -> dict[UUID, bytes]:
        with self.lock:
            return {i: self.keys[i] for i in ids if i in self.keys}

    def write(self, new: dict[UUID, bytes], erase: set[UUID]) -> None:
        with self.lock:
            clash = [sid for sid in new if sid in self.keys]
            if clash:
                from eventsourcing.persistence import IntegrityError

                raise IntegrityError(f"key already exists for {clash[0]}")
            self.keys.update(new)
            for sid in erase:
                self.keys.pop(sid, None)
