"""Keeps projections up to date with the application's event log, exactly once.

``catch_up`` reads the log once for all projections, in batches of the topics they follow
after the furthest-behind position, decodes each event once, and commits each batch's rows of
every projection with the position each reached (the last notification id of the log read up
to, so a caught-up projection's position equals the log's last id).
``follow`` does that whenever the log grows (a subscription: polling on SQLite, LISTEN/NOTIFY
on PostgreSQL); ``start``/``stop`` run it in a background thread, and ``wait`` lets a caller
read its own writes.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from gridcore.app_base import collection_paused
from projections.base import Projection
from projections.decode import LeanDecoder
from projections.log import log_reader
from projections.views import views_for

Progress = Callable[[str, int, int], None]


@dataclass
class Status:
    name: str
    position: int
    last: int

    @property
    def lag(self) -> int:
        return max(0, self.last - self.position)


class Runner:
    """Keeps ``projections`` up to date: one pass over the log for all of them, each event
    decoded once (leanly, see ``projections.decode``) and handed to every projection that
    follows it; a batch's rows of all projections and their positions in one transaction."""

    def __init__(self, app: Any, projections: Sequence[Projection], batch: int = 20000,
                 views: Any = None) -> None:
        self.app, self.batch = app, batch
        # Read models keep no personal data: decoding opens no sealed value (no key look-ups).
        self.decoder = LeanDecoder(app.mapper)
        self.reader = log_reader(app.recorder)
        self.projections = {p.name: p for p in projections}
        self._topics = {p.name: frozenset(p.topics()) for p in projections}
        self.views = views or views_for(app)
        for p in self.projections.values():
            self.views.setup(p)
        self.spent: dict[str, float] = defaultdict(float)
        """Seconds spent per projection (and in ``read``/``decode``), for benchmarks."""
        self.applied: dict[str, int] = defaultdict(int)
        """Events applied per projection since this runner started."""
        self._thread: threading.Thread | None = None
        self._subscription: Any = None
        self._stop = threading.Event()
        self._caught_up = threading.Condition()

    def projection(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            raise KeyError(f"no projection named {name!r}; known: "
                           f"{', '.join(sorted(self.projections))}") from None

    def status(self) -> list[Status]:
        last = self.app.recorder.max_notification_id() or 0
        return [Status(p.name, self.views.position(p), last) for p in self.projections.values()]

    def catch_up(self, progress: Progress | None = None) -> int:
        """Bring every projection up to the log's current end; returns events applied."""
        return self._catch_up(list(self.projections.values()), progress)

    def _catch_up(self, projections: Sequence[Projection], progress: Progress | None) -> int:
        upto = self.app.recorder.max_notification_id() or 0
        positions = {p.name: self.views.position(p) for p in projections}
        applied = 0
        while True:
            behind = [p for p in projections if positions[p.name] < upto]
            if not behind:
                return applied
            after = min(positions[p.name] for p in behind)
            topics = sorted(set().union(*(self._topics[p.name] for p in behind)))
            # A batch's events are short-lived and free of cycles: the cyclic collector would
            # only rescan them (and whatever else the process holds) again and again.
            with collection_paused():
                started = perf_counter()
                rows = self.reader.read(after, upto, self.batch, topics)
                read = perf_counter()
                reached = rows[-1][0] if len(rows) == self.batch else upto
                events = self.decoder.decode_all(rows)
                self.spent["read"] += read - started
                self.spent["decode"] += perf_counter() - read
                batches = []
                for p in behind:
                    if positions[p.name] >= reached:
                        continue  # ahead of this batch: it joins when the others reach it
                    mine, since = self._topics[p.name], positions[p.name]
                    batches.append((p, [(nid, e) for nid, topic, e in events
                                        if nid > since and topic in mine]))
                self.views.apply_batches(batches, reached, self.spent)
            for p, its in batches:
                applied += len(its)
                self.applied[p.name] += len(its)
                positions[p.name] = reached
                if progress is not None:
                    progress(p.name, reached, upto)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Drop a projection's tables and position and build it again from the first event."""
        p = self.projection(name)
        self.views.reset(p)
        return self._catch_up([p], progress)

    # ---- following the log ---------------------------------------------------------------

    def follow(self) -> None:
        """Catch up, then keep up until ``stop()``."""
        from adapters.polling import subscribe

        self.catch_up()
        self._notify()
        # From where the slowest projection got to: anything written since wakes us.
        reached = min((self.views.position(p) for p in self.projections.values()), default=0)
        subscription = self._subscription = subscribe(self.app.recorder, gt=reached)
        if self._stop.is_set():
            subscription.stop()
        try:
            while not self._stop.is_set():
                try:
                    next(subscription)
                except StopIteration:
                    break
                self.catch_up()
                self._notify()
        finally:
            subscription.stop()

    def _notify(self) -> None:
        with self._caught_up:
            self._caught_up.notify_all()

    def start(self) -> Runner:
        self._stop.clear()
        self._thread = threading.Thread(target=self.follow, name="projections", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._subscription is not None:
            self._subscription.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait(self, notification_id: int | None, timeout: float = 10.0) -> None:
        """Block until every projection has applied ``notification_id`` (read your writes)."""
        if notification_id is None:
            return
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            with self._caught_up:
                while min((self.views.position(p) for p in self.projections.values()),
                          default=notification_id) < notification_id:
                    if deadline.is_set():
                        raise TimeoutError(f"projections did not reach {notification_id} "
                                           f"within {timeout} s")
                    self._caught_up.wait(timeout=0.05)
        finally:
            timer.cancel()
