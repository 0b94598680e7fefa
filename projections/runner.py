"""Keeps projections up to date with the application's event log, exactly once.

``catch_up`` reads the log once for all projections, in batches of the topics they follow
after the furthest-behind position, decodes each event once, and commits each batch's rows of
every projection with the position each reached (the last notification id of the log read up
to, so a caught-up projection's position equals the log's last id).
``follow`` does that whenever the log grows (a subscription: polling on SQLite, LISTEN/NOTIFY
on PostgreSQL); ``start``/``stop`` run it in a background thread, and ``wait`` lets a caller
read its own writes (also when other processes run the read models: it reads the positions
from the database). A runner may hold a group of the read models (``projections.groups``):
several processes then keep the groups up side by side, each with its own positions.

One projection's failure never stops the others. A batch is one transaction for all of them
(the fast path); when it fails, it is rolled back and each projection applies the batch in a
transaction of its own: the healthy ones commit it whole, and for the one that fails, trial
transactions (always rolled back) bisect the batch to the first event it cannot apply. It
commits the events before that one, its position stays just before it, and the failure (event,
error) is written beside the positions: the projection is *stuck*. A stuck projection is
skipped by later catch-ups, ``wait`` does not wait for it, and ``status`` reports it, until
``retry`` (the command ``gridcore projections retry``; ``gridcore serve`` and ``gridcore
projections run`` retry when they start) or a rebuild (``reset``) clears it. An event that
cannot even be decoded sticks every projection that follows its topic the same way.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import monotonic, perf_counter
from typing import TYPE_CHECKING, Any, Protocol

from gridcore.app_base import collection_paused
from projections.base import Failure, LeanEvent, Notified, Projection
from projections.decode import Decoded, LeanDecoder, RawRow, canonical_id
from projections.log import log_reader
from projections.views import PositionMoved, Views, views_for

if TYPE_CHECKING:
    from eventsourcing.application import Application

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)
ERROR_TEXT = 500
"""Characters of an error's text kept with a failure."""
POLL_FIRST = 0.005
POLL_MAX = 0.05
"""Seconds between ``wait``'s reads of the positions: the first pause, and the longest."""


@dataclass
class Status:
    name: str
    position: int
    last: int
    stuck: Failure | None = None
    """Why the projection stopped (None: it is healthy)."""

    @property
    def lag(self) -> int:
        return max(0, self.last - self.position)


@dataclass(frozen=True)
class Undecodable:
    """A stored event the decoder could not read: in a batch in its place, so each
    projection that follows its topic stops there."""

    originator_id: str
    originator_version: int
    error: Exception


class _Subscription(Protocol):
    """What ``follow`` uses of a subscription to the log (the library's, or the polling one
    of ``adapters.polling``): wait for the next notification, stop from another thread."""

    def __next__(self) -> object: ...
    def stop(self) -> None: ...


def error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_TEXT]


class Runner:
    """Keeps ``projections`` up to date: one pass over the log for all of them, each event
    decoded once (leanly, see ``projections.decode``) and handed to every projection that
    follows it; a batch's rows of all projections and their positions in one transaction
    (one per projection when that fails, so a failing projection stops alone)."""

    def __init__(self, app: Application[Any], projections: Sequence[Projection],
                 batch: int = 20000, views: Views | None = None) -> None:
        self.app, self.batch = app, batch
        # Read models keep no personal data: decoding opens no sealed value (no key look-ups).
        self.decoder = LeanDecoder(app.mapper)
        self.reader = log_reader(app.recorder)
        self.projections = {p.name: p for p in projections}
        self._topics = {p.name: frozenset(p.topics()) for p in projections}
        self.views: Views = views or views_for(app)
        for p in self.projections.values():
            self.views.setup(p)
        self.spent: dict[str, float] = defaultdict(float)
        """Seconds spent per projection (and in ``read``/``decode``), for benchmarks."""
        self.applied: dict[str, int] = defaultdict(int)
        """Events applied per projection since this runner started."""
        self.stuck: dict[str, Failure] = {}
        """The stuck projections as this runner last read them (refreshed by each catch-up
        from the table, so a ``retry`` from another process is seen)."""
        self.error: Exception | None = None
        """What last stopped a catch-up of the background thread (it goes on at the next
        write)."""
        self._thread: threading.Thread | None = None
        self._subscription: _Subscription | None = None
        self._stop = threading.Event()
        self._caught_up = threading.Condition()
        self._refresh_stuck()

    def projection(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            raise KeyError(f"no projection named {name!r}; known: "
                           f"{', '.join(sorted(self.projections))}") from None

    def status(self) -> list[Status]:
        """Each projection's position, the log's end, and why it is stuck when it is (read
        from the database: what any process's runner found)."""
        last = self.app.recorder.max_notification_id() or 0
        stuck = self.views.failures()
        return [Status(p.name, self.views.position(p), last, stuck.get(p.name))
                for p in self.projections.values()]

    def health(self, detail: bool = True) -> dict[str, Any]:
        """``status`` as JSON for a health check: ``"status"`` is ``"degraded"`` while any
        projection is stuck, else ``"ok"``; each projection's position, lag and failure (the
        error's text only with ``detail``, else its type)."""
        out: dict[str, Any] = {}
        for s in self.status():
            f = s.stuck
            out[s.name] = {"position": s.position, "lag": s.lag, "stuck": None if f is None else {
                "notification_id": f.notification_id, "event_id": f.event_id,
                "originator_id": f.originator_id, "originator_version": f.originator_version,
                "topic": f.topic, "error": f.error if detail else f.error_type,
                "failed_at": f.failed_at}}
        degraded = any(v["stuck"] for v in out.values())
        return {"status": "degraded" if degraded else "ok", "projections": out}

    def _refresh_stuck(self) -> dict[str, Failure]:
        self.stuck = {n: f for n, f in self.views.failures().items() if n in self.projections}
        return self.stuck

    def catch_up(self, progress: Progress | None = None) -> int:
        """Bring every projection that is not stuck up to the log's current end; returns
        events applied. A projection that cannot apply an event stops just before it."""
        return self._catch_up(list(self.projections.values()), progress)

    def retry(self, *names: str, progress: Progress | None = None) -> int:
        """Forget why ``names`` (every stuck projection of this runner when none are named)
        were stuck, and catch up: one whose cause was fixed goes on from where it stopped,
        one that fails again is stuck again."""
        for name in names:
            self.projection(name)  # KeyError naming the known ones
        # Only this runner's own: another group's stuck read model is for its process to retry.
        self.views.clear_failures(list(names or self.projections))
        return self.catch_up(progress)

    def _catch_up(self, projections: Sequence[Projection], progress: Progress | None) -> int:
        upto = self.app.recorder.max_notification_id() or 0
        stuck = self._refresh_stuck()
        projections = [p for p in projections if p.name not in stuck]
        before = sum(self.applied.values())
        while True:
            positions = {p.name: self.views.position(p) for p in projections}
            try:
                self._catch_up_from(projections, positions, upto, progress)
                return sum(self.applied.values()) - before
            except PositionMoved as moved:  # another writer got there first: go on from there
                log.info("catching up again from the positions in the database: %s", moved)
                self._refresh_stuck()

    def _catch_up_from(self, projections: Sequence[Projection], positions: dict[str, int],
                       upto: int, progress: Progress | None) -> None:
        while True:
            behind = [p for p in projections
                      if positions[p.name] < upto and p.name not in self.stuck]
            if not behind:
                return
            after = min(positions[p.name] for p in behind)
            topics = sorted(set().union(*(self._topics[p.name] for p in behind)))
            # A batch's events are short-lived and free of cycles: the cyclic collector would
            # only rescan them (and whatever else the process holds) again and again.
            with collection_paused():
                started = perf_counter()
                rows = self.reader.read(after, upto, self.batch, topics)
                read = perf_counter()
                reached = rows[-1][0] if len(rows) == self.batch else upto
                events, whole = self._decode(rows)
                self.spent["read"] += read - started
                self.spent["decode"] += perf_counter() - read
                batches = []
                for p in behind:
                    if positions[p.name] >= reached:
                        continue  # ahead of this batch: it joins when the others reach it
                    mine, since = self._topics[p.name], positions[p.name]
                    batches.append((p, [(nid, e) for nid, topic, e in events
                                        if nid > since and topic in mine]))
                failed = self._apply(batches, reached, positions, events, whole)
                counted = []
                for p, its in batches:
                    done = failed.get(p.name)
                    counted.append((p, done, len(its) if done is None else sum(
                        1 for nid, _ in its if nid < done.notification_id)))
                # Freed here by their reference counts while the collector is off: left to
                # the collector's first pass once it is on again, the whole batch was scanned
                # once more (a sixth of a catch-up at a million households).
                del rows, events, batches
            for p, done, applied in counted:
                if done is not None:
                    positions[p.name] = max(positions[p.name], done.notification_id - 1)
                else:
                    positions[p.name] = reached
                self.applied[p.name] += applied
                if progress is not None:
                    progress(p.name, positions[p.name], upto)

    def _decode(self, rows: Sequence[RawRow]) -> tuple[list[Decoded], bool]:
        """The batch's events, and whether all of them could be decoded (else each one that
        could not is an ``Undecodable`` in its place)."""
        try:
            return self.decoder.decode_all(rows), True
        except Exception:  # find which ones: each projection following them stops there
            out: list[Decoded] = []
            for row in rows:
                try:
                    event: LeanEvent | Undecodable = self.decoder.decode(row)
                except Exception as e:
                    event = Undecodable(canonical_id(row[1]), int(row[2]), e)
                out.append((row[0], row[3], event))
            return out, False

    def _apply(self, batches: Sequence[tuple[Projection, Sequence[Notified]]], reached: int,
               positions: dict[str, int], events: Sequence[Decoded],
               whole: bool) -> dict[str, Failure]:
        """Commit the batch: one transaction for all (the normal case); when that fails, each
        projection on its own, a failing one up to the event it cannot apply. Returns the
        projections that got stuck."""
        if whole:
            try:
                self.views.apply_batches(batches, reached, self.spent,
                                         since={p.name: positions[p.name] for p, _ in batches})
                return {}
            except PositionMoved:
                raise
            except Exception:
                log.warning("a batch up to %s failed: applying it per read model", reached)
        topics = {nid: topic for nid, topic, _ in events}
        failed: dict[str, Failure] = {}
        for p, its in batches:
            failure = self._isolate(p, its, reached, positions[p.name], topics)
            if failure is not None:
                failed[p.name] = failure
                log.error("read model %s", failure.describe())
        if failed:
            self.stuck = {**self.stuck, **failed}
        return failed

    def _isolate(self, p: Projection, its: Sequence[Notified], reached: int, since: int,
                 topics: dict[int, str]) -> Failure | None:
        """Apply one projection's share of a batch in a transaction of its own; when it
        fails, commit the events before the first one it cannot apply, with its failure."""
        cut = next((i for i, (_, e) in enumerate(its) if isinstance(e, Undecodable)), len(its))
        error: Exception | None = None
        if cut == len(its):
            try:
                self.views.apply_batch(p, its, reached, since=since)
                return None
            except PositionMoved:
                raise
            except Exception:
                if not its:
                    raise  # no event to blame: the database itself (it propagates)
            # Only the commit failed so far: make sure the events are to blame (a commit
            # that fails again when they apply in a trial is the database's failure).
            error = self.views.attempt(p, its)
            if error is None:
                self.views.apply_batch(p, its, reached, since=since)
                return None
        elif cut:
            error = self.views.attempt(p, its[:cut])
        if error is None:  # the events before the undecodable one apply
            bad, lo = its[cut], cut
            error = bad[1].error
            what = "cannot decode it: "
        else:  # the first failing prefix: events [0, lo) apply, [0, hi) does not
            lo, hi = 0, cut
            while hi - lo > 1:
                mid = (lo + hi) // 2
                found = self.views.attempt(p, its[:mid])
                if found is None:
                    lo = mid
                else:
                    hi, error = mid, found
            bad, what = its[hi - 1], ""
        assert error is not None
        nid, event = bad
        failure = Failure(p.name, nid, str(event.originator_id), int(event.originator_version),
                          topics[nid], (what + error_text(error))[:ERROR_TEXT],
                          datetime.now(UTC).isoformat(timespec="seconds"))
        # Just before the bad event (events of other topics between are passed over); the
        # position stays where it is when the bad event is the next one.
        self.views.apply_batch(p, its[:lo], nid - 1 if nid - 1 > since else None, failure,
                               since=since)
        return failure

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Drop a projection's tables and position (and its failure: a stuck one is tried
        again) and build it again from the first event."""
        p = self.projection(name)
        self.views.reset(p)
        return self._catch_up([p], progress)

    # ---- following the log ---------------------------------------------------------------

    def follow(self) -> None:
        """Catch up, then keep up until ``stop()``."""
        from adapters.polling import subscribe

        self._keep_up()
        # From where the slowest healthy projection got to: anything written since wakes us.
        reached = min((self.views.position(p) for p in self.projections.values()
                       if p.name not in self.stuck), default=0)
        subscription = self._subscription = subscribe(self.app.recorder, gt=reached)
        if self._stop.is_set():
            subscription.stop()
        try:
            while not self._stop.is_set():
                try:
                    next(subscription)
                except StopIteration:
                    break
                self._keep_up()
        finally:
            subscription.stop()

    def _keep_up(self) -> None:
        """Catch up and wake the waiters. A catch-up that fails for something no projection
        is to blame for (the database away) is logged and tried again at the next write:
        the thread keeps following."""
        try:
            self.catch_up()
            self.error = None
        except Exception as e:
            self.error = e
            log.exception("catching up the read models failed; trying again at the next write")
        self._notify()

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
        """Block until every projection has applied ``notification_id`` (read your writes);
        a stuck projection will not: it is not waited for (``status`` reports it).

        The positions are read from the database, so this holds whoever runs the read
        models: this runner's own thread (``start``), which wakes the waiters after each
        catch-up, or other processes (``gridcore projections run --group``, with ``gridcore
        serve`` told ``GRIDCORE_PROJECTIONS=external``), which nothing here hears of. Then it
        polls, and reads which projections are stuck from the database too."""
        if notification_id is None:
            return
        deadline = monotonic() + timeout
        # The first look comes soon (a runner following by LISTEN/NOTIFY applies a command's
        # few events some 20 ms after their commit), then the pause doubles up to POLL_MAX,
        # so a request waiting through a long catch-up costs the database two small queries
        # per POLL_MAX, not a busy loop. Measured on PostgreSQL (2 cores, busy): the wait
        # after a command returned in 30 ms (median of 40) with the read models in another
        # process, 20 ms with them in this one.
        pause = POLL_FIRST
        while True:
            behind = self._behind(notification_id)
            if not behind:
                return
            left = deadline - monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"read models did not reach {notification_id} within {timeout} s: "
                    + ", ".join(f"{n} at {at}" for n, at in sorted(behind.items()))
                    + ("" if self._following() else
                       " (they are run by other processes: are they running?)"))
            with self._caught_up:  # woken early by this runner's own thread
                self._caught_up.wait(timeout=min(pause, left))
            pause = min(2 * pause, POLL_MAX)

    def _following(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _behind(self, notification_id: int) -> dict[str, int]:
        """The healthy projections still before ``notification_id``, with their positions
        (one query; which are stuck is read again when no thread of ours follows the log)."""
        stuck = self.stuck if self._following() else self._refresh_stuck()
        positions = self.views.positions()
        return {p.name: at for p in self.projections.values()
                if p.name not in stuck
                and (at := positions.get(p.tracking_name, 0)) < notification_id}
