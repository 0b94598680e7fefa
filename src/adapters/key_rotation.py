"""Re-wrapping every subject key under a new key-encryption key (``gridcore keys rotate``,
``adapters.cli.keys``).

With ``GRIDCORE_KEK_FILE`` (the default) the rotation is safe while writers run (serve, stream
worker, scheduler), because a running process looks at the KEK file before each save that
wraps new keys (``adapters.kek.reread``) and the saves and the re-wrapping take the same lock
on the key table:

1. every stored key is checked to open with the KEKs of the file, before anything is written
   (a key no KEK of the file opens would be lost when the old KEKs are dropped: the command
   names the missing KEKs and stops, the file untouched);
2. a new KEK is put first in the file, the old ones kept (a writer wraps with the new one from
   its next save on; everything stays readable);
3. every key not wrapped with the new KEK is re-wrapped, in one transaction;
4. 3 is repeated until no key is wrapped with an old KEK (a save that wrapped with the old KEK
   just before the file changed is caught here), for a bounded number of rounds;
5. only then are the old KEKs dropped from the file (``--keep-old`` keeps them, for other
   stores that share the file).

With ``GRIDCORE_KEK`` the operator puts the new key first in the variable; a process reads the
variable only when it starts, so every writer has to be restarted with the new value before
the old key can go. The command re-wraps under the variable's first key and never treats the
old keys as retired (it cannot edit the variable, and a writer still running with the old
value would wrap with the old key): it says to restart the writers, run it again, and only
then remove the old key from the variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.kek import (
    KEK_ENV,
    KekError,
    KeyRing,
    kek_file,
    kek_id,
    load_ring,
    new_kek,
    parse_keks,
    write_kek_file,
)

ROUNDS = 5
"""re-wrapping rounds before a rotation gives up waiting for the old KEK to wrap nothing"""


@dataclass(frozen=True)
class Rotation:
    rewrapped: int
    current: str
    retired: list[str]
    source: str
    kept: list[str] = field(default_factory=list)
    """old KEK ids left in the source (``--keep-old``, or the variable's)"""


def missing_keks(recorder: Any, ring: KeyRing) -> dict[str, int]:
    """KEK ids (hex) that wrap stored keys but are not in ``ring``, with how many keys each."""
    return {kid.hex(): n for kid, n in recorder.keys_by_kek().items()
            if kid is not None and not ring.holds(kid)}


def _settle(recorder: Any, ring: KeyRing, rounds: int,
            observe: Callable[[str], None]) -> int:
    """Steps 3 and 4: re-wrap until no stored key is wrapped with another KEK than the
    newest; how many keys were re-wrapped."""
    done = 0
    stale = 0
    for _ in range(rounds):
        done += recorder.rewrap_keys(ring)
        observe("rewrapped")
        stale = sum(n for kid, n in recorder.keys_by_kek().items() if kid != ring.newest_id)
        if not stale:
            return done
    raise KekError(
        f"After {rounds} rounds of re-wrapping, {stale} subject keys are still wrapped with "
        f"an old key-encryption key: a process keeps wrapping new keys with it (one started "
        f"with {KEK_ENV}, which it reads only at start, or a gridcore older than this one). "
        f"Nothing is lost: the old and the new KEKs stay in {ring.source}. Restart or stop "
        "that process and run `gridcore keys rotate` again.")


def rotate_store_keys(app: Any, environ: Mapping[str, str] | None = None,
                      keep_old: bool = False, rounds: int = ROUNDS,
                      observe: Callable[[str], None] | None = None) -> Rotation:
    """Re-wrap every subject key of ``app``'s store under a new KEK (see the module).
    ``observe`` is told each step as it is done ("checked", "written", "rewrapped" after
    every round, "dropped"): a test runs a writer there."""
    environ = app.env if environ is None else environ
    observe = observe or (lambda step: None)
    recorder = app.recorder
    if not hasattr(recorder, "rewrap_keys"):
        raise KekError("The in-memory store keeps no keys beyond its process; nothing to rotate.")
    vault = app.factory.vault
    ring = load_ring(environ)
    missing = missing_keks(recorder, ring)
    if missing:
        raise KekError(
            f"{sum(missing.values())} subject keys of this store are wrapped with "
            f"key-encryption keys that {ring.source} does not hold: "
            f"{', '.join(f'{kid} ({n} keys)' for kid, n in missing.items())}. Nothing was "
            f"changed. Put those KEKs back into {ring.source}, after the first one, and run "
            "`gridcore keys rotate` again; rotating now would leave those keys unreadable "
            "for good.")
    observe("checked")
    if environ.get(KEK_ENV):
        vault.use_ring(ring)
        done = _settle(recorder, ring, rounds, observe)
        return Rotation(done, ring.ids()[0], [], KEK_ENV, kept=ring.ids()[1:])
    path = kek_file(environ)
    kek = new_kek()
    write_kek_file(path, (kek, *ring.keks))  # the old KEKs open what they wrapped meanwhile
    during = load_ring(environ)
    vault.use_ring(during)
    observe("written")
    done = _settle(recorder, during, rounds, observe)
    retired = ring.ids()
    if keep_old:
        return Rotation(done, kek_id(kek).hex(), [], str(path), kept=retired)
    # what the file holds now, less the retired KEKs (a KEK someone added meanwhile stays)
    left = tuple(k for k in parse_keks(path.read_text(), str(path)) if k not in ring.keks)
    write_kek_file(path, left or (kek,))
    vault.use_ring(load_ring(environ))
    observe("dropped")
    return Rotation(done, kek_id(kek).hex(), retired, str(path))
