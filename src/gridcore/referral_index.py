"""The referral area's small index aggregates: ``ReferralDesk`` (per community, the open
referrals and their transport deadlines, read by ``tick_referrals``), ``DeskRegister`` (which
communities have a desk) and ``ResidentReferrals`` (per resident, the open referral of each kind,
so opening is idempotent and referral ids are deterministic)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.referral import ReferralKind, referral_id


def desk_id(community_code: str) -> UUID:
    return stable_id("referral-desk", community_code)


DESK_REGISTER_ID = stable_id("referral-desk-register", "all")


def resident_referrals_id(resident_id: UUID) -> UUID:
    return stable_id("resident-referrals", str(resident_id))


class ReferralDesk(Aggregate):
    """A community's open referrals, each with its transport deadline (None once dispatched)."""

    community_code: str
    open: dict[UUID, datetime | None]

    class Started(Created):
        community_code: str

        def apply(self, d: ReferralDesk) -> None:
            d.community_code, d.open = self.community_code, {}

    class Listed(Event):
        referral_id: UUID
        transport_due: datetime

        def apply(self, d: ReferralDesk) -> None:
            d.open[self.referral_id] = self.transport_due

    class TransportArranged(Event):
        referral_id: UUID

        def apply(self, d: ReferralDesk) -> None:
            d.open[self.referral_id] = None

    class Delisted(Event):
        referral_id: UUID

        def apply(self, d: ReferralDesk) -> None:
            d.open.pop(self.referral_id, None)

    @classmethod
    def start(cls, community_code: str, at: datetime) -> ReferralDesk:
        return cls._create(cls.Started, desk_id(community_code), at,
                           community_code=community_code)

    def record_open(self, referral_id: UUID, transport_due: datetime, at: datetime) -> None:
        self._trigger(self.Listed, at, referral_id=referral_id, transport_due=transport_due)

    def transport_arranged(self, referral_id: UUID, at: datetime) -> None:
        if self.open.get(referral_id) is not None:
            self._trigger(self.TransportArranged, at, referral_id=referral_id)

    def delist(self, referral_id: UUID, at: datetime) -> None:
        if referral_id in self.open:
            self._trigger(self.Delisted, at, referral_id=referral_id)

    def past_due(self, now: datetime) -> list[UUID]:
        """Open referrals still awaiting transport whose deadline has passed."""
        return [rid for rid, due in self.open.items() if due is not None and due < now]


class DeskRegister(Aggregate):
    """Which communities have a referral desk (so that a tick finds them all)."""

    communities: list[str]

    class Started(Created):
        def apply(self, reg: DeskRegister) -> None:
            reg.communities = []

    class DeskAdded(Event):
        community_code: str

        def apply(self, reg: DeskRegister) -> None:
            reg.communities.append(self.community_code)

    @classmethod
    def start(cls, at: datetime) -> DeskRegister:
        return cls._create(cls.Started, DESK_REGISTER_ID, at)

    def add(self, community_code: str, at: datetime) -> None:
        if community_code not in self.communities:
            self._trigger(self.DeskAdded, at, community_code=community_code)


class ResidentReferrals(Aggregate):
    """One resident's referrals: how many of each kind were opened, and which one is open."""

    resident_id: UUID
    opened: dict[ReferralKind, int]
    open: dict[ReferralKind, UUID]

    class Started(Created):
        resident_id: UUID

        def apply(self, rr: ResidentReferrals) -> None:
            rr.resident_id, rr.opened, rr.open = self.resident_id, {}, {}

    class ReferralOpened(Event):
        kind: ReferralKind
        referral_id: UUID

        def apply(self, rr: ResidentReferrals) -> None:
            rr.opened[self.kind] = rr.opened.get(self.kind, 0) + 1
            rr.open[self.kind] = self.referral_id

    class ReferralEnded(Event):
        kind: ReferralKind
        referral_id: UUID

        def apply(self, rr: ResidentReferrals) -> None:
            rr.open.pop(self.kind, None)

    @classmethod
    def start(cls, resident_id: UUID, at: datetime) -> ResidentReferrals:
        return cls._create(cls.Started, resident_referrals_id(resident_id), at,
                           resident_id=resident_id)

    def next_id(self, kind: ReferralKind) -> UUID:
        return referral_id(self.resident_id, kind, self.opened.get(kind, 0) + 1)

    def latest(self, kind: ReferralKind) -> UUID | None:
        n = self.opened.get(kind, 0)
        return referral_id(self.resident_id, kind, n) if n else None

    def all_ids(self) -> list[UUID]:
        return [referral_id(self.resident_id, k, n) for k in ReferralKind
                for n in range(1, self.opened.get(k, 0) + 1)]

    def record_opened(self, kind: ReferralKind, rid: UUID, at: datetime) -> None:
        self._trigger(self.ReferralOpened, at, kind=kind, referral_id=rid)

    def record_ended(self, kind: ReferralKind, rid: UUID, at: datetime) -> None:
        if self.open.get(kind) == rid:
            self._trigger(self.ReferralEnded, at, kind=kind, referral_id=rid)
