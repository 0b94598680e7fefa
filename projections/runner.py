"""Keeps projections up to date with the application's event log, exactly once.

``catch_up`` reads each projection's topics after its position in batches, decodes only those
events, and commits each batch's rows with the position it reached (the last notification id of
the log it has read up to, so a caught-up projection's position equals the log's last id).
``follow`` does that whenever the log grows (a subscription: polling on SQLite, LISTEN/NOTIFY
on PostgreSQL); ``start``/``stop`` run it in a background thread, and ``wait`` lets a caller
read its own writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from projections.base import Projection
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
    def __init__(self, app: Any, projections: Sequence[Projection], batch: int = 5000,
                 views: Any = None) -> None:
        from adapters.codec import without_personal_data

        self.app, self.batch = app, batch
        # Read models keep no personal data, so decoding opens no sealed value (no key look-ups).
        self.mapper = without_personal_data(app.mapper)
        self.projections = {p.name: p for p in projections}
        self.views = views or views_for(app)
        for p in self.projections.values():
            self.views.setup(p)
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
        return sum(self._catch_up(p, progress) for p in self.projections.values())

    def _catch_up(self, p: Projection, progress: Progress | None) -> int:
        recorder, mapper = self.app.recorder, self.mapper
        position = self.views.position(p)
        upto = recorder.max_notification_id() or 0
        applied = 0
        while position < upto:
            notes = recorder.select_notifications(start=position + 1, limit=self.batch,
                                                  stop=upto, topics=p.topics())
            full = len(notes) == self.batch
            reached = notes[-1].id if full else upto
            events = [(n.id, mapper.to_domain_event(n)) for n in notes]
            self.views.apply_batch(p, events, reached)
            applied += len(events)
            position = reached
            if progress is not None:
                progress(p.name, position, upto)
        return applied

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Drop a projection's tables and position and build it again from the first event."""
        p = self.projection(name)
        self.views.reset(p)
        return self._catch_up(p, progress)

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
