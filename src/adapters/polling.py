"""A polling subscription to an application's notification log.

eventsourcing 9.5.6's SQLite recorder has no ``subscribe()``; this iterator gives the same
shape (notifications after ``gt``, optionally only some topics) by polling the recorder, with
a short back-off while nothing is new. ``stop()`` ends it from another thread at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any


class PollingSubscription(Iterator[Any]):
    def __init__(self, recorder: Any, gt: int | None = None, topics: Sequence[str] = (),
                 interval: float = 0.05, max_interval: float = 0.5, batch: int = 500) -> None:
        self.recorder, self.topics = recorder, list(topics)
        self.position = gt or 0
        self.interval, self.max_interval, self.batch = interval, max_interval, batch
        self._stopped = threading.Event()
        self._buffer: list[Any] = []

    def stop(self) -> None:
        self._stopped.set()

    def __enter__(self) -> PollingSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __iter__(self) -> PollingSubscription:
        return self

    def __next__(self) -> Any:
        wait = self.interval
        while not self._buffer:
            if self._stopped.is_set():
                raise StopIteration
            found = self.recorder.select_notifications(
                start=self.position + 1, limit=self.batch, topics=self.topics)
            if found:
                self._buffer = list(found)
                break
            self._stopped.wait(wait)
            wait = min(wait * 2, self.max_interval)
        notification = self._buffer.pop(0)
        self.position = notification.id
        return notification


def subscribe(recorder: Any, gt: int | None = None, topics: Sequence[str] = ()) -> Any:
    """The library's subscription where the recorder has one (PostgreSQL: LISTEN/NOTIFY),
    polling otherwise (the SQLite default)."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder) or not hasattr(recorder, "subscribe"):
        return PollingSubscription(recorder, gt, topics)
    try:
        return recorder.subscribe(gt=gt, topics=topics)
    except NotImplementedError:
        return PollingSubscription(recorder, gt, topics)
