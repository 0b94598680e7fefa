"""Rate limits on what anyone may do without a token: filing residents' requests.

``fileRequest`` needs no account, so without a limit one client could flood a community's
desk (each filing is a deadline that escalates to the city) or file in another person's name
over and over. Anonymous filings are limited per client address and per phone number (the
phone is the resident's; several residents may share one address behind a carrier's NAT, so
that limit is looser). A limit is a sliding window: at most ``count`` filings in any
``seconds``; a refused attempt is not counted, and the answer says when the next will be
accepted (HTTP 429 with ``Retry-After``, see ``graphql_api.requests.mutations``).

Windows live in the server's memory (one process: ``gridcore serve`` runs one). Keys are
digests under a key drawn at start, so the process never holds a plain phone number; the
number of keys kept is bounded (the least recently seen go first).

Behind a reverse proxy every client shares the proxy's address: run uvicorn with its proxy
headers trusted for that proxy (``--forwarded-allow-ips``) so the client's own address counts.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

_UNITS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60,
          "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
          "days": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*$")

MAX_KEYS = 100_000
"""Keys kept per limit: an address or phone not seen for longest is forgotten first."""


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events in any ``seconds``."""

    count: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"


def parse_limit(raw: str) -> Limit | None:
    """``"5/hour"``, ``"30/15min"``, ``"100/day"`` -> a ``Limit``; ``"off"`` (or ``"0"``) ->
    None (no limit). ``ValueError`` names the accepted forms."""
    text = raw.strip().lower()
    if text in ("off", "none", "0", "unlimited"):
        return None
    found = _LIMIT.match(text)
    if found is None or found.group(3) not in _UNITS:
        raise ValueError(f"{raw!r} is not a rate limit; write COUNT/UNIT, e.g. 5/hour, "
                         "30/15min or 100/day (units: s, min, hour, day), or off")
    count, times, unit = int(found.group(1)), float(found.group(2) or 1), found.group(3)
    seconds = times * _UNITS[unit]
    if count < 1 or seconds <= 0:
        raise ValueError(f"{raw!r} allows nothing; give a positive count and window, or off")
    return Limit(count, seconds)


class SlidingWindow:
    """One limit's windows, one per key (not locked: ``FilingLimits`` holds the lock)."""

    def __init__(self, limit: Limit, max_keys: int = MAX_KEYS) -> None:
        self.limit, self.max_keys = limit, max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds from ``now`` until ``key`` may act again (0: now)."""
        times = self._seen.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.limit.seconds:
            times.popleft()
        if len(times) < self.limit.count:
            return 0.0
        return times[0] + self.limit.seconds - now

    def record(self, key: str, now: float) -> None:
        times = self._seen.get(key)
        if times is None:
            times = self._seen[key] = deque()
        self._seen.move_to_end(key)
        times.append(now)
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)


class RateLimited(Exception):
    """Too many attempts; ``retry_after`` whole seconds until the next is accepted."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(what)
        self.what, self.retry_after = what, retry_after


class FilingLimits:
    """The anonymous filing limits of one server: per client address and per phone."""

    def __init__(self, per_address: Limit | None, per_phone: Limit | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_address, self.per_phone, self.clock = per_address, per_phone, clock
        self._salt = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._windows = [(what, SlidingWindow(limit)) for what, limit in
                         (("address", per_address), ("phone", per_phone))
                         if limit is not None]

    def _key(self, what: str, value: str) -> str:
        return hashlib.blake2b(f"{what}:{value}".encode("utf-8", "replace"),
                               key=self._salt, digest_size=16).hexdigest()

    def admit(self, address: str | None, phone: str | None) -> None:
        """Count one filing from ``address`` for ``phone``, or raise ``RateLimited`` (nothing
        counted) when either is at its limit."""
        values = {"address": address or "unknown", "phone": _digits(phone)}
        keyed = [(what, window, self._key(what, values[what])) for what, window
                 in self._windows if values[what]]
        with self._lock:
            now = self.clock()
            waits = [(window.wait(key, now), what) for what, window, key in keyed]
            longest = max(waits, default=(0.0, ""))
            if longest[0] > 0:
                raise RateLimited(longest[1], max(1, math.ceil(longest[0])))
            for _, window, key in keyed:
                window.record(key, now)


def _digits(phone: str | None) -> str:
    """A phone as the filer's digits (spaces, brackets and +86 do not make another phone)."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)[:20]
    return digits.removeprefix("86") if len(digits) > 11 else digits
