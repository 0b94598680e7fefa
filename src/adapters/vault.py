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
from binascii import b2a_base64
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.kek import KeyRing, UnknownKek, is_pack, reread

KEY_TABLE = "gridcore_subject_keys"

PACK_FROM = 256
"""A save of at least this many new keys (a bulk registration) stores the new keys of each
aggregate's first event as one row (``KeyRing.wrap_pack``): a household's address and
residents. Smaller saves store a row per subject, as before."""

Seal = Callable[[UUID, dict[str, Any]], dict[str, Any]]


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

    Packs: in a bulk save the new keys of an aggregate's first event (a household's address
    and residents) are stored as one row, the aggregate's id (its address's subject id) the
    row's id. Who seals or opens a value of an aggregate names the aggregate (``pack``), so a
    subject's key is found in its own row (single keys, every store before packs) or else in
    the aggregate's pack: one query either way. An erasure rewrites the pack without the
    erased subjects' keys (``settle_erasure``), so each subject's key is destroyed alone.
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

    def _packs(self) -> tuple[dict[UUID, list[tuple[UUID, bytes]]], set[UUID]]:
        """This save's new subjects (and their keys, as made) by the aggregate whose first
        event sealed them, and the
        aggregates whose pack an erasure may have to rewrite."""
        local = self._local
        if not hasattr(local, "packs"):
            local.packs, local.erase_packs = {}, set()
        return local.packs, local.erase_packs

    def has_pending(self) -> tuple[bool, bool]:
        """Whether this save makes new keys, and whether it erases any (``take_pending``
        without copying a bulk save's tens of thousands of keys)."""
        new, erase = self._pending()
        return bool(new), bool(erase)

    def take_pending(self) -> tuple[dict[UUID, bytes], set[UUID]]:
        new, erase = self._pending()
        return dict(new), set(erase)

    def take_pending_stored(self) -> tuple[dict[UUID, bytes], set[UUID]]:
        """The pending new keys as the key table stores them (wrapped), and the erasures."""
        new, erase = self._pending()
        if not new:
            return {}, set(erase)
        ring = self.fresh_ring()
        packs = self._packs()[0]
        if len(new) < PACK_FROM or not packs:
            return ring.wrap_many(new), set(erase)
        rows: dict[UUID, bytes] = {}
        if not erase and sum(map(len, packs.values())) == len(new):
            # Each new key was made once, by one aggregate's first event (no key sealed
            # twice, none by a later event, none erased since): the packs hold them all, as
            # made, with no look-up of a subject id (hashing a UUID is Python code).
            single: dict[UUID, bytes] = {}
            for row, entries in packs.items():
                if len(entries) > 1 and entries[0][0] == row:  # the row: its first subject
                    rows[row] = ring.wrap_pack(row, entries)
                else:
                    single.update(entries)
            rows.update(ring.wrap_many(single))
            return rows, set(erase)
        packed: set[UUID] = set()
        for row, entries in packs.items():
            keys = {sid: new[sid] for sid, _ in entries if sid in new and sid not in packed}
            if len(keys) > 1 and row in keys:  # the row's id is one of its subjects
                rows[row] = ring.wrap_pack(row, keys.items())
                packed.update(keys)
        rows.update(ring.wrap_many({sid: key for sid, key in new.items() if sid not in packed}))
        return rows, set(erase)

    def erasure_rows(self) -> set[UUID]:
        """The key rows this save's erasures may change: the erased subjects' own rows and
        the packs of the aggregates whose events erase them (empty: no erasure)."""
        erase = self._pending()[1]
        return erase | self._packs()[1] if erase else set()

    def settle_erasure(self, rows: dict[UUID, bytes]) -> dict[UUID, bytes | None]:
        """What becomes of the stored ``rows`` (of ``erasure_rows``, read in the save's
        transaction): None, a row to delete (an erased subject's own key, or a pack left
        empty); bytes, a pack rewritten without the erased subjects' keys."""
        erase = self._pending()[1]
        ring = self.fresh_ring()
        changes: dict[UUID, bytes | None] = {}
        for row, stored in rows.items():
            if is_pack(stored):
                after = ring.without(row, stored, erase)
                if after is not stored:
                    changes[row] = after
            elif row in erase:
                changes[row] = None
        return changes

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

    def _load(self, ids: list[UUID], pack: UUID | None = None) -> dict[UUID, bytes]:
        """The keys of subjects ``ids``, from their own rows or from the pack ``pack``."""
        stored = self._load_stored(ids if pack is None or pack in ids else [*ids, pack])
        if pack is not None and pack not in ids and not is_pack(stored.get(pack, b"")):
            stored.pop(pack, None)  # the aggregate's own key, not a pack: not asked for
        if not stored:
            return {}
        ring = self.ring
        try:
            return _unwrapped(ring, stored)
        except UnknownKek:
            ring = self.fresh_ring()
        try:
            return _unwrapped(ring, stored)
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
        self._clear_packs()

    def rolled_back(self) -> None:
        new, erase = self._pending()
        new.clear()
        erase.clear()
        self._clear_packs()

    def _clear_packs(self) -> None:
        packs, erase_packs = self._packs()
        packs.clear()
        erase_packs.clear()

    def _remember(self, sid: UUID, key: bytes | None) -> None:
        if self.cache_seconds <= 0:
            return
        self._cache[sid] = (key, time.monotonic() + self.cache_seconds)
        self._cache.move_to_end(sid)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _aead(self, sid: UUID, create: bool, pack: UUID | None = None) -> AESGCM | None:
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
        found = self._load([sid], pack).get(sid)
        if found is not None:
            with self._lock:
                self._remember(sid, found)
            return AESGCM(found)
        if not create:
            return None
        key = AESGCM.generate_key(bit_length=256)
        new[sid] = key
        return AESGCM(key)

    def seal_new(self, sid: UUID, data: dict[str, Any],
                 pack: UUID | None = None) -> dict[str, Any]:
        """Seal a subject that is created by this event (no look-up: its key is new);
        ``pack``: the aggregate whose first event it is (its keys may be stored as one row)."""
        return self.sealer(pack, new=True)(sid, data)

    def sealer(self, pack: UUID | None, new: bool) -> Seal:
        """The sealing function of one event of aggregate ``pack``: ``seal_new`` for its
        first event (``new``), else ``seal``."""
        if not new:
            return lambda sid, data: self.seal(sid, data, pack)
        pending = self._pending()[0]
        members = None if pack is None else self._packs()[0].setdefault(pack, [])

        def seal_new(sid: UUID, data: dict[str, Any]) -> dict[str, Any]:
            rnd = os.urandom(44)
            key, nonce = rnd[:32], rnd[32:]
            pending[sid] = key
            if members is not None:
                members.append((sid, key))
            blob = AESGCM(key).encrypt(nonce, orjson.dumps(data, default=_default), sid.bytes)
            return {"subject_id": data["subject_id"],
                    "sealed": b2a_base64(nonce + blob, newline=False).decode()}

        return seal_new

    def seal(self, sid: UUID, data: dict[str, Any], pack: UUID | None = None) -> dict[str, Any]:
        aead = self._aead(sid, create=True, pack=pack)
        assert aead is not None
        return _seal(aead, sid, data)

    def unseal(self, data: dict[str, Any], pack: UUID | None = None) -> dict[str, Any] | None:
        """The sealed value opened (None: its key is gone); ``pack``: the aggregate whose
        event holds it, whose pack may hold the key."""
        sid = UUID(data["subject_id"])
        aead = self._aead(sid, create=False, pack=pack)
        if aead is None:
            return None
        blob = b64decode(data["sealed"])
        try:
            plain = aead.decrypt(blob[:12], blob[12:], sid.bytes)
        except InvalidTag:
            return None
        return orjson.loads(plain)

    def schedule_erase(self, subject_ids: Iterable[UUID], pack: UUID | None = None) -> None:
        """Destroy the subjects' keys in this save; ``pack``: the aggregate whose event
        erases them, whose pack may hold their keys."""
        new, erase = self._pending()
        for sid in subject_ids:
            new.pop(sid, None)
            erase.add(sid)
        if pack is not None:
            self._packs()[1].add(pack)

    def forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()


def _unwrapped(ring: KeyRing, stored: dict[UUID, bytes]) -> dict[UUID, bytes]:
    """The subject keys of stored rows; a subject's own row wins over a pack's entry."""
    keys: dict[UUID, bytes] = {}
    for row, blob in stored.items():
        if is_pack(blob):
            for sid, key in ring.unwrap_row(row, blob).items():
                keys.setdefault(sid, key)
        else:
            keys[row] = ring.unwrap(row, blob)
    return keys


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

    def write(self, new: dict[UUID, bytes], vault: KeyVault) -> None:
        """The save's new rows, then its erasures (``KeyVault.settle_erasure``)."""
        with self.lock:
            clash = [sid for sid in new if sid in self.keys]
            if clash:
                from eventsourcing.persistence import IntegrityError

                raise IntegrityError(f"key already exists for {clash[0]}")
            self.keys.update(new)
            rows = vault.erasure_rows()
            if rows:
                current = {i: self.keys[i] for i in rows if i in self.keys}
                for row, after in vault.settle_erasure(current).items():
                    if after is None:
                        self.keys.pop(row, None)
                    else:
                        self.keys[row] = after
