"""The time window: every time that enters from outside is checked at the edge.

A time given by a caller (a camera detection, a vehicle pass, a travel record, a visit, a
test, a delivery handed over...) is what a device or a person says happened. It must carry its
offset, and lie in the window the policy states: not before the epidemic's start year
(``Policy.earliest_year``) and not more than ``Policy.clock_skew_minutes`` ahead of the server's
clock, because a device's clock may run a little fast but nothing has happened tomorrow. A time
that schedules something (a risk period's end, a policy's effective time, a campaign's start)
may lie ahead, up to ``Policy.schedule_horizon_days``.

Why here and not in the read models: a time like ``9999-12-31T23:59:59-14:00`` is a valid
aware datetime whose UTC value does not exist, so anything that converts it later (the read
models' UTC text, the hour a pass is counted in) raises far from where it came in, after the
event was stored. Refusing it at the command keeps the log free of such times.

The rule is pure: ``now`` is passed in (the application's clock, which simulations replaying
2020 set themselves).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from gridcore.errors import InvalidInput
from gridcore.policy import Policy


def window(now: datetime, policy: Policy, *, scheduled: bool = False
           ) -> tuple[datetime, datetime]:
    """The earliest and latest accepted instants (UTC) at ``now``."""
    earliest = datetime(policy.earliest_year, 1, 1, tzinfo=UTC)
    ahead = (timedelta(days=policy.schedule_horizon_days) if scheduled
             else timedelta(minutes=policy.clock_skew_minutes))
    return earliest, now.astimezone(UTC) + ahead


def _text(when: datetime) -> str:
    return when.isoformat(timespec="minutes").replace("+00:00", "Z")


def describe_window(now: datetime, policy: Policy, *, scheduled: bool = False) -> str:
    """What is accepted, for the remedy of a refusal."""
    earliest, latest = window(now, policy, scheduled=scheduled)
    ahead = (f"{policy.schedule_horizon_days} days" if scheduled
             else f"{policy.clock_skew_minutes} minutes")
    return (f"Give an ISO 8601 time with its offset (e.g. 2020-02-17T08:00+08:00) between "
            f"{_text(earliest)} (the start of {policy.earliest_year}) and {_text(latest)} "
            f"(at most {ahead} after the server's clock).")


def check_instant(value: Any, now: datetime, policy: Policy, what: str, *,
                  scheduled: bool = False) -> datetime:
    """``value`` when it is an aware datetime inside the window at ``now``; otherwise an
    ``InvalidInput`` naming ``what``, what was wrong and the window accepted.

    Comparing aware datetimes never converts them, so a time whose UTC value would overflow
    (year 9999 at -14:00, year 1 at +14:00) is refused here instead of raising."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"The {what} {str(value)[:60]!r} is not a time.",
                           describe_window(now, policy, scheduled=scheduled))
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"The {what} {value.isoformat()} has no time zone.",
                           describe_window(now, policy, scheduled=scheduled))
    earliest, latest = window(now, policy, scheduled=scheduled)
    if value < earliest:
        raise InvalidInput(f"The {what} {value.isoformat()} is before {policy.earliest_year}, "
                           "the start of the epidemic's records.",
                           describe_window(now, policy, scheduled=scheduled))
    if value > latest:
        raise InvalidInput(f"The {what} {value.isoformat()} is in the future (the server's "
                           f"clock says {_text(now.astimezone(UTC))}).",
                           describe_window(now, policy, scheduled=scheduled))
    return value


def check_day(value: Any, now: datetime, policy: Policy, what: str) -> date:
    """A calendar day given from outside (an arrival date): from the start of the policy's
    earliest year to the server's date, a day more for the zones east of UTC (a resident
    cannot have arrived tomorrow)."""
    earliest = date(policy.earliest_year, 1, 1)
    latest = (now.astimezone(UTC) + timedelta(days=1)).date()
    accepted = f"Give a date from {earliest.isoformat()} to {latest.isoformat()}."
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"The {what} {str(value)[:60]!r} is not a date.", accepted)
    if value < earliest:
        raise InvalidInput(f"The {what} {value.isoformat()} is before {policy.earliest_year}, "
                           "the start of the epidemic's records.", accepted)
    if value > latest:
        raise InvalidInput(f"The {what} {value.isoformat()} is in the future.", accepted)
    return value
