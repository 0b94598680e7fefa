"""Vehicles at checkpoints: a plate's travel records (行程记录) and hourly pass counts.

``PlateTravel`` keeps one plate's travel records from the external feed, each applied once by
its record id. ``PassTally`` records passes counted per checkpoint and hour (UTC) from one
source (a file, or a stream window), applied once per source key: a replay adds nothing.
Passes that raise no alert are only counted, never recorded one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import InvalidInput
from gridcore.risk import check_area, check_aware, check_input_id

MAX_BUCKETS = 100_000


def plate_travel_id(plate: str) -> UUID:
    return stable_id("plate-travel", plate)


def pass_tally_id(source_key: str) -> UUID:
    return stable_id("pass-tally", source_key)


class Visit(Immutable):
    record_id: str
    place: str
    at: datetime


class PlateTravel(Aggregate):
    plate: str
    visits: dict[str, Visit]

    class Started(Created):
        plate: str

        def apply(self, t: PlateTravel) -> None:
            t.plate, t.visits = self.plate, {}

    class Recorded(Event):
        record_id: str
        place: str
        visited_at: datetime

        def apply(self, t: PlateTravel) -> None:
            t.visits[self.record_id] = Visit(record_id=self.record_id, place=self.place,
                                             at=self.visited_at)

    @classmethod
    def start(cls, plate: str, at: datetime) -> PlateTravel:
        return cls._create(cls.Started, plate_travel_id(plate), at, plate=plate)

    def record(self, record_id: str, place: str, when: datetime, at: datetime) -> bool:
        """Record a visit; False when this record id is already recorded (a redelivery)."""
        check_input_id(record_id, "travel record")
        place = check_area(place)
        check_aware(when, "travel time")
        if record_id in self.visits:
            return False
        self._trigger(self.Recorded, at, record_id=record_id, place=place, visited_at=when)
        return True

    def pairs(self) -> list[tuple[str, datetime]]:
        """(place, time) of every visit, the vehicle rule's input, in time order."""
        return sorted(((v.place, v.at) for v in self.visits.values()), key=lambda p: p[1])


class HourCount(Immutable):
    checkpoint_id: str
    hour: datetime
    passes: int


def hour_start(when: datetime) -> datetime:
    """The UTC hour a time falls in."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_number(when: datetime) -> int:
    """The UTC hour an aware time falls in, as a number (hours since 0001-01-01 UTC): two
    times have the same number when they have the same ``hour_start``. Half the cost of
    ``when.timestamp()`` (a stream worker asks once a pass); an offset that is not whole
    minutes takes the exact, slower way."""
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("hour_number needs an aware time")
    if offset.microseconds or offset.seconds % 60:
        utc = when.astimezone(UTC)
        return utc.toordinal() * 24 + utc.hour
    return (when.toordinal() * 1440 + when.hour * 60 + when.minute
            - offset.days * 1440 - offset.seconds // 60) // 60


def check_counts(counts: Mapping[tuple[str, datetime], int]) -> list[HourCount]:
    """Counts per (checkpoint id, UTC hour start) are positive whole numbers; the hour is a
    time-zone aware whole hour. Returns them sorted."""
    if len(counts) > MAX_BUCKETS:
        raise InvalidInput(f"{len(counts)} checkpoint-hours in one count.",
                           f"Count at most {MAX_BUCKETS} checkpoint-hours at a time.")
    out = []
    for (code, hour), n in counts.items():
        check_input_id(code, "checkpoint")
        check_aware(hour, "hour")
        if hour != hour_start(hour):
            raise InvalidInput(f"{hour.isoformat()} is not the start of an hour.",
                               "Count passes per whole hour, e.g. 2020-02-17T08:00+00:00.")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInput(f"{n!r} passes at {code} is not a count.",
                               "Give a whole number of passes, 1 or more.")
        out.append(HourCount(checkpoint_id=code, hour=hour.astimezone(UTC), passes=n))
    return sorted(out, key=lambda c: (c.checkpoint_id, c.hour))


class PassTally(Aggregate):
    source_key: str
    counts: list[HourCount]

    class Counted(Created):
        source_key: str
        counts: list[HourCount]

        def apply(self, t: PassTally) -> None:
            t.source_key, t.counts = self.source_key, list(self.counts)

    @classmethod
    def count(cls, source_key: str, counts: list[HourCount], at: datetime) -> PassTally:
        check_input_id(source_key, "count source")
        return cls._create(cls.Counted, pass_tally_id(source_key), at, source_key=source_key,
                           counts=counts)
