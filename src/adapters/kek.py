"""Key-encryption keys: the per-subject keys are stored wrapped, never as they are.

The subject keys live in the same database as the events they open. Stored as they are, a copy
of the database file alone would decrypt every name, phone and address in it, so each key is
stored wrapped (AES-256-GCM, the subject id as associated data) with a key-encryption key
(KEK) that never enters the database: from ``GRIDCORE_KEK`` (one or more 32-byte keys in
base64 or hex, comma- or space-separated, newest first) or else from ``GRIDCORE_KEK_FILE``
(default ``./var/gridcore.kek``, one key a line, newest first; created 0600 with a random key
in development when absent, required in production).

Each wrapped key records the id of the KEK that wrapped it (a hash of the KEK, never the KEK),
so a ring of several KEKs reads a store during a rotation: new keys are wrapped with the
newest KEK, ``gridcore keys rotate`` re-wraps the old ones, after which the retired KEK opens
nothing in the store.

A running process sees a rotation of the file (``reread``): before it wraps the new keys of a
save it compares the file's ``stat`` with the one it read, and reads the file again when it
changed, so it wraps with the KEK a rotation has just put first; a key it cannot unwrap sends
it to the file once more (the rotation re-wrapped it under a KEK it has not read yet).
``GRIDCORE_KEK`` is read once, at start: a process has to be restarted to see a new value.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
from base64 import b64decode, b64encode
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEK_ENV = "GRIDCORE_KEK"
KEK_FILE_ENV = "GRIDCORE_KEK_FILE"
DEFAULT_KEK_FILE = "./var/gridcore.kek"

RAW_KEY_LENGTH = 32
"""A subject key stored as it is (stores written before wrapping); migrated when opened."""

_FORMAT = b"\x01"
_PACK = b"\x02"
_KID_LENGTH = 8
WRAPPED_LENGTH = 1 + _KID_LENGTH + 12 + RAW_KEY_LENGTH + 16
_ENTRY = 16 + RAW_KEY_LENGTH
"""A pack's entry: the subject id's 16 bytes, then its key."""


class KekError(RuntimeError):
    """The key-encryption key is missing, malformed or not the one the store was written
    with. The message says which variable to set."""


class UnknownKek(KekError):
    """A stored key is wrapped with a KEK the ring does not hold (``kid``: its id)."""

    def __init__(self, message: str, kid: bytes) -> None:
        super().__init__(message)
        self.kid = kid


def kek_id(kek: bytes) -> bytes:
    """The 8-byte id stored with every key a KEK wraps: a hash, from which the KEK cannot be
    recovered."""
    return hashlib.sha256(b"gridcore-kek-id:" + kek).digest()[:_KID_LENGTH]


@dataclass(frozen=True)
class KeyRing:
    """KEKs newest first: the first wraps, any of them unwraps what it wrapped."""

    keks: tuple[bytes, ...]
    source: str
    path: Path | None = field(default=None, compare=False)
    """the KEK file read (None: the variable, or a key of the process's own)"""
    stamp: tuple[int, ...] | None = field(default=None, compare=False, repr=False)
    """the file's ``stat`` when it was read: a different one means it was written since"""
    _aeads: dict[bytes, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.keks:
            raise KekError(f"{self.source} holds no key-encryption key.",)
        for kek in self.keks:
            self._aeads[kek_id(kek)] = AESGCM(kek)

    @cached_property
    def newest_id(self) -> bytes:
        """Cached: ``wrap`` asks for it for every new key, and hashing it each time was a
        quarter of wrapping."""
        return kek_id(self.keks[0])

    def ids(self) -> list[str]:
        return [kek_id(k).hex() for k in self.keks]

    def holds(self, kid: bytes) -> bool:
        return kid in self._aeads

    def wrap(self, sid: UUID, key: bytes) -> bytes:
        kid = self.newest_id
        nonce = os.urandom(12)
        return _FORMAT + kid + nonce + self._aeads[kid].encrypt(nonce, key, sid.bytes)

    def wrap_many(self, keys: Mapping[UUID, bytes]) -> dict[UUID, bytes]:
        """``wrap`` of each key, its nonces drawn in one ``urandom`` call (a bulk save wraps
        tens of thousands)."""
        kid = self.newest_id
        head = _FORMAT + kid
        encrypt = self._aeads[kid].encrypt
        nonces = os.urandom(12 * len(keys))
        wrapped = {}
        for i, (sid, key) in enumerate(keys.items()):
            nonce = nonces[12 * i:12 * i + 12]
            wrapped[sid] = head + nonce + encrypt(nonce, key, sid.bytes)
        return wrapped

    def wrap_pack(self, row: UUID, keys: Iterable[tuple[UUID, bytes]]) -> bytes:
        """Several subjects' keys stored as one row (``row``: its id, one of the subjects):
        one wrap of their entries (subject id, key) with the newest KEK, ``row`` as the
        associated data. A bulk registration stores a household's keys (its address's and
        its residents') this way; erasing one subject rewrites the row without its entry
        (``without``), so each subject's key is still destroyed on its own."""
        kid = self.newest_id
        nonce = os.urandom(12)
        body = b"".join(sid.bytes + key for sid, key in keys)
        return _PACK + kid + nonce + self._aeads[kid].encrypt(nonce, body, row.bytes)

    def unwrap_row(self, row: UUID, stored: bytes) -> dict[UUID, bytes]:
        """The subject keys a stored row holds: one (a wrapped or raw key of subject
        ``row``) or a pack's."""
        if not is_pack(stored):
            return {row: self.unwrap(row, stored)}
        body = self._open(row, stored, "keys of pack")
        if len(body) % _ENTRY:
            raise KekError(f"The stored keys of pack {row} are in an unknown format.")
        return {UUID(bytes=body[i:i + 16]): body[i + 16:i + _ENTRY]
                for i in range(0, len(body), _ENTRY)}

    def without(self, row: UUID, stored: bytes, erased: set[UUID]) -> bytes | None:
        """A stored pack rewritten without the keys of ``erased`` (wrapped anew: a new
        nonce); None when none is left; ``stored`` itself when it holds none of them."""
        keys = self.unwrap_row(row, stored)
        kept = {sid: key for sid, key in keys.items() if sid not in erased}
        if len(kept) == len(keys):
            return stored
        return self.wrap_pack(row, kept.items()) if kept else None

    def rewrap(self, row: UUID, stored: bytes) -> bytes:
        """A stored row (one key or a pack) wrapped with the newest KEK."""
        if is_pack(stored):
            return self.wrap_pack(row, self.unwrap_row(row, stored).items())
        return self.wrap(row, self.unwrap(row, stored))

    def _open(self, row: UUID, stored: bytes, what: str) -> bytes:
        kid = stored[1:1 + _KID_LENGTH]
        aead = self._aeads.get(kid)
        if aead is None:
            raise self.unreadable(row, kid)
        body = stored[1 + _KID_LENGTH:]
        try:
            return aead.decrypt(body[:12], body[12:], row.bytes)
        except InvalidTag:
            raise KekError(f"The stored {what} {row} do not open with key-encryption "
                           f"key {kid.hex()}: the key table is damaged.") from None

    def unwrap(self, sid: UUID, stored: bytes) -> bytes:
        """The subject key of a stored row; a raw (unmigrated) key is returned as it is."""
        if len(stored) == RAW_KEY_LENGTH:
            return stored
        if len(stored) != WRAPPED_LENGTH or stored[:1] != _FORMAT:
            raise KekError(f"The stored key of subject {sid} is in an unknown format.")
        kid = stored[1:1 + _KID_LENGTH]
        aead = self._aeads.get(kid)
        if aead is None:
            raise self.unreadable(sid, kid)
        body = stored[1 + _KID_LENGTH:]
        try:
            return aead.decrypt(body[:12], body[12:], sid.bytes)
        except InvalidTag:
            raise KekError(f"The stored key of subject {sid} does not open with key-encryption "
                           f"key {kid.hex()}: the key table is damaged.") from None

    def check_store(self, sample: bytes | None) -> None:
        """Refuse a ring that does not open a stored key of the store (a process started
        with another KEK would otherwise wrap new keys that the others cannot open)."""
        if sample is not None and len(sample) != RAW_KEY_LENGTH \
                and sample[1:1 + _KID_LENGTH] not in self._aeads:
            raise self._unknown(sample[1:1 + _KID_LENGTH])

    def _unknown(self, kid: bytes) -> KekError:
        return UnknownKek(
            f"The subject keys of this store are wrapped with key-encryption key {kid.hex()}, "
            f"which is not among the keys of {self.source} ({', '.join(self.ids())}). Set "
            f"{KEK_ENV} or {KEK_FILE_ENV} to the key this store was written with; without it "
            "no personal data can be read or written.", kid)

    def unreadable(self, sid: UUID, kid: bytes, affected: int | None = None) -> UnknownKek:
        """The refusal of one subject's key wrapped with a KEK this ring does not hold (a
        retired KEK, typically: a process wrapped with it after a rotation dropped it).
        ``affected``: how many keys of the store that KEK wraps, when known."""
        many = ("" if affected is None else
                f"; {affected} subject key{'s' if affected != 1 else ''} of this store "
                f"{'are' if affected != 1 else 'is'} wrapped with it")
        return UnknownKek(
            f"The key of subject {sid} is wrapped with key-encryption key {kid.hex()}, which "
            f"is not among the keys of {self.source} ({', '.join(self.ids())}){many}. That "
            "subject's personal data cannot be read until the key is back: put the retired "
            f"KEK back into the KEK file ({KEK_FILE_ENV}) or {KEK_ENV}, after the key now in "
            "use, and run `gridcore keys rotate` to re-wrap it.", kid)

    def is_current(self, stored: bytes) -> bool:
        """Whether a stored key is wrapped with the newest KEK (nothing to re-wrap)."""
        return len(stored) != RAW_KEY_LENGTH and stored[1:1 + _KID_LENGTH] == self.newest_id


def is_pack(stored: bytes) -> bool:
    """Whether a stored key row is a pack of several subjects' keys (``wrap_pack``)."""
    return stored[:1] == _PACK and len(stored) != RAW_KEY_LENGTH


def ephemeral_ring() -> KeyRing:
    """A random KEK for a store that lives and dies with its process (the memory store)."""
    return KeyRing((AESGCM.generate_key(bit_length=256),), "an in-memory key")


def parse_keks(text: str, source: str) -> tuple[bytes, ...]:
    """KEKs from text: base64 or hex tokens of 32 bytes, separated by commas, spaces or lines;
    lines starting with ``#`` are comments."""
    tokens = [t for line in text.splitlines() if not line.lstrip().startswith("#")
              for t in line.replace(",", " ").split()]
    keks = []
    for n, token in enumerate(tokens, start=1):
        kek = _decode(token)
        if kek is None:
            raise KekError(f"Key {n} of {source} is not 32 bytes in base64 or hex.",)
        keks.append(kek)
    if not keks:
        raise KekError(f"{source} holds no key-encryption key; generate one with "
                       "`python -c \"import os,base64;print(base64.b64encode(os.urandom(32))"
                       ".decode())\"`.")
    return tuple(keks)


def _decode(token: str) -> bytes | None:
    for decode in (bytes.fromhex, b64decode):
        try:
            value = decode(token)
        except (ValueError, binascii.Error):
            continue
        if len(value) == RAW_KEY_LENGTH:
            return value
    return None


def new_kek() -> bytes:
    return secrets.token_bytes(RAW_KEY_LENGTH)


def kek_file(environ: Mapping[str, str]) -> Path:
    return Path(environ.get(KEK_FILE_ENV) or DEFAULT_KEK_FILE)


def _production(environ: Mapping[str, str]) -> bool:
    return (environ.get("GRIDCORE_API_MODE") or "development").strip().lower() == "production"


def load_ring(environ: Mapping[str, str]) -> KeyRing:
    """The KEKs the environment names (see the module's docstring)."""
    given = environ.get(KEK_ENV)
    if given:
        return KeyRing(parse_keks(given, KEK_ENV), KEK_ENV)
    path = kek_file(environ)
    if not path.exists():
        if _production(environ):
            raise KekError(f"No key-encryption key: production needs {KEK_ENV} or "
                           f"{KEK_FILE_ENV} naming an existing file ({path} does not exist).")
        write_kek_file(path, [new_kek()], exclusive=True)
    _tighten(path)
    stamp = _stamp(path)  # before reading: a write in between is seen at the next look
    return KeyRing(parse_keks(path.read_text(), str(path)), str(path), path, stamp)


def _stamp(path: Path) -> tuple[int, ...]:
    """What changes when the file is written (``write_kek_file`` replaces it: a new inode)."""
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def reread(ring: KeyRing) -> KeyRing:
    """The ring read again from its file when the file was written since (a rotation under
    way or done), else ``ring`` itself: one ``stat``. A ring of ``GRIDCORE_KEK`` or of the
    process's own is returned as it is; so is ``ring`` when the file is gone or unreadable
    (keeping the KEKs known beats failing every save; the next look may find it whole)."""
    if ring.path is None:
        return ring
    try:
        stamp = _stamp(ring.path)
        if stamp == ring.stamp:
            return ring
        keks = parse_keks(ring.path.read_text(), ring.source)
    except (OSError, KekError):
        return ring
    return KeyRing(keks, ring.source, ring.path, stamp)


def write_kek_file(path: Path, keks: Sequence[bytes], exclusive: bool = False) -> None:
    """Write the KEKs (newest first) to ``path`` with mode 0600, atomically: readers see the
    old file or the new one. ``exclusive``: only if no file is there yet (a concurrent first
    start keeps whichever was written first)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = "".join(f"{b64encode(k).decode()}\n" for k in keks)
    fd, tmp = tempfile.mkstemp(prefix=".kek-", dir=path.parent)  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write("# gridcore key-encryption keys, newest first; keep out of backups of "
                    "the database\n" + text)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        else:
            os.replace(tmp, path)
            tmp = ""
    finally:
        if tmp:
            os.unlink(tmp)


def _tighten(path: Path) -> None:
    """A KEK file readable by others is made owner-only (where the owner runs gridcore)."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            os.chmod(path, 0o600)
    except OSError:
        pass
