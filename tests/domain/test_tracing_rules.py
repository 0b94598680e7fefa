"""The rules of contact tracing (``gridcore.tracing``), pure and on the ``Case`` aggregate:
no cycle makes a person their own contact's contact's index; promotion and release are
idempotent; the measure follows the latest exposure; matching is certain only on strong
evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.errors import InvalidInput
from gridcore.identity import ResidentIdentity
from gridcore.policy import DEFAULT_POLICY, Policy
from gridcore.status import Measure, TagKind
from gridcore.tracing import (
    Case,
    Closeness,
    Generation,
    MatchBasis,
    Setting,
    TracedIdentity,
    check_no_cycle,
    contact_measure,
    generation_of,
    match_basis,
    measure_start,
    reachable,
)

T0 = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)
DOCTOR = UUID(int=99)


def new_case(no: str, index: UUID, source: tuple[Case, UUID] | None = None) -> Case:
    return Case.open(no, "420102001712", confirmed=False, reason="", index_identity=None,
                     index_household_id=uuid4(), index_resident_id=index,
                     index_person_id=source[1] if source else None,
                     source_case_id=source[0].id if source else None, by=DOCTOR, at=T0)


def expose(case: Case, person: UUID, via: UUID | None, at: datetime,
           upstream: list[UUID] | None = None, policy: Policy = DEFAULT_POLICY,
           now: datetime | None = None) -> UUID:
    """Record an exposure of resident ``person`` (a new contact, or the one already traced)."""
    known = case.contact_of_resident(person)
    pid = known.person_id if known else case.next_person_id()
    case.record_exposure(person_id=pid, identity=None,
                         household_id=None if known else uuid4(),
                         resident_id=None if known else person, via=via, exposed_at=at,
                         setting=Setting.HOUSEHOLD, place="家中",
                         closeness=Closeness.SHARED_LIVING,
                         upstream=upstream or [case.source_of(via)], by=DOCTOR,
                         policy=policy,
                         at=now or T0 + timedelta(days=30))
    return pid


# ---- pure rules ----------------------------------------------------------------------------

def test_generations_and_the_policys_measures() -> None:
    assert generation_of(Generation.INDEX) is Generation.CLOSE
    assert generation_of(Generation.CLOSE) is Generation.SECONDARY
    with pytest.raises(InvalidInput):
        generation_of(Generation.SECONDARY)
    assert contact_measure(TagKind.CLOSE_CONTACT, T0, DEFAULT_POLICY) == (
        Measure.CENTRALIZED_QUARANTINE, T0 + timedelta(days=14))
    assert contact_measure(TagKind.SECONDARY_CONTACT, T0, DEFAULT_POLICY) == (
        Measure.HOME_QUARANTINE, T0 + timedelta(days=7))
    strict = DEFAULT_POLICY.with_changes(secondary_contact_measure="centralized_quarantine",
                                         secondary_contact_days=14)
    assert contact_measure(TagKind.SECONDARY_CONTACT, T0, strict) == (
        Measure.CENTRALIZED_QUARANTINE, T0 + timedelta(days=14))


def test_a_policy_without_the_tracing_fields_reads_with_the_defaults() -> None:
    old = {k: v for k, v in DEFAULT_POLICY.model_dump().items()
           if not k.startswith(("close_contact", "secondary_contact", "ruled_out"))}
    p = Policy.model_validate(old)
    assert (p.close_contact_days, p.close_contact_measure) == (14, "centralized_quarantine")
    assert (p.secondary_contact_days, p.secondary_contact_measure) == (7, "home_quarantine")
    assert p.ruled_out_release_to == "none"
    with pytest.raises(ValueError):
        Policy.model_validate({**old, "close_contact_measure": "hospitalized"})


def test_a_measure_counts_from_the_last_exposure_as_far_back_as_the_policy_allows() -> None:
    now = T0 + timedelta(days=1)
    assert measure_start(T0, now, None, DEFAULT_POLICY) == T0
    assert measure_start(T0 - timedelta(days=5), now, None, DEFAULT_POLICY) == now - timedelta(
        hours=DEFAULT_POLICY.measure_backdate_hours)
    assert measure_start(T0, now, T0 + timedelta(hours=2), DEFAULT_POLICY) == T0 + timedelta(
        hours=2)
    assert measure_start(now, now, None, DEFAULT_POLICY) is None


def test_matching_is_certain_only_on_strong_evidence() -> None:
    sid = uuid4()
    resident = ResidentIdentity(subject_id=sid, name="张三", phone="13812341234",
                                id_number="420102198503174516")
    known = TracedIdentity(subject_id=uuid4(), id_number="420102198503174516")
    assert match_basis(known, resident, "1栋101") == (MatchBasis.ID_NUMBER, True)
    assert match_basis(TracedIdentity(subject_id=sid, name="张三", phone="13812341234"),
                       resident, None) == (MatchBasis.PHONE, True)
    assert match_basis(TracedIdentity(subject_id=sid, name="张叁", phone="13812341234"),
                       resident, None) == (MatchBasis.PHONE, False)
    assert match_basis(TracedIdentity(subject_id=sid, name="张三", address="1栋 101"),
                       resident, "1栋101") == (MatchBasis.NAME_ADDRESS, True)
    assert match_basis(TracedIdentity(subject_id=sid, name="张三", address="1栋"),
                       resident, "1栋101") == (MatchBasis.NAME_ADDRESS, False)
    for weak in (TracedIdentity(subject_id=sid, name="张三"),
                 TracedIdentity(subject_id=sid, name="李四", address="1栋101"),
                 TracedIdentity(subject_id=sid, id_number="11010519491231002X",
                                phone="13812341234")):
        with pytest.raises(InvalidInput):
            match_basis(weak, resident, "1栋101")


# ---- hypothesis: no cycle ------------------------------------------------------------------

PEOPLE = [UUID(int=n) for n in range(1, 9)]


class World:
    """Cases over a small pool of people, each case opened from a contact of another; what
    the application reads across cases (``TracingCommands._upstream``) done over a list."""

    def __init__(self) -> None:
        self.cases = [new_case("C-0", PEOPLE[0])]

    def upstream(self, case: Case, via: UUID | None) -> list[UUID]:
        return reachable(case.source_of(via),
                         lambda k: [s for c in self.cases for s in c.sources_of(k)])

    def downstream(self, key: UUID) -> list[UUID]:
        return reachable(key, lambda k: [t for c in self.cases for t in c.targets_of(k)])

    def edges(self) -> set[tuple[UUID, UUID]]:
        """Who was exposed to whom, across all cases: (source person, contact)."""
        out = set()
        for case in self.cases:
            for c in case.contacts.values():
                out.add((case.source_of(c.via), c.key))
        return out


def acyclic(edges: set[tuple[UUID, UUID]]) -> bool:
    graph: dict[UUID, set[UUID]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: dict[UUID, int] = {}

    def visit(n: UUID) -> bool:
        if state.get(n) == 1:
            return False
        if state.get(n) == 2:
            return True
        state[n] = 1
        ok = all(visit(m) for m in graph.get(n, ()))
        state[n] = 2
        return ok

    return all(visit(n) for n in list(graph))


operation = st.tuples(st.sampled_from(["expose", "open"]), st.integers(0, 20),
                      st.integers(0, 20), st.sampled_from(PEOPLE))


@settings(max_examples=200, deadline=None)
@given(st.lists(operation, max_size=40))
def test_no_sequence_of_exposures_makes_a_person_their_own_contacts_contact(ops) -> None:
    w = World()
    for kind, i, j, person in ops:
        case = w.cases[i % len(w.cases)]
        contacts = list(case.contacts.values())
        if kind == "open":
            fresh = [c for c in contacts if c.became_case is None]
            if fresh:
                c = fresh[j % len(fresh)]
                child = new_case(f"C-{len(w.cases)}", c.key, (case, c.person_id))
                case.link_case(c.person_id, child.id, T0)
                w.cases.append(child)
            continue
        closes = [c for c in contacts if c.generation is Generation.CLOSE]
        via = closes[j % len(closes)].person_id if closes and j % 2 else None
        upstream = w.upstream(case, via)
        known = case.contact_of_resident(person)
        if known is not None and known.via != via:
            continue  # traced through another person in this case: a different refusal
        if person in upstream:
            with pytest.raises(InvalidInput, match="upstream"):
                expose(case, person, via, T0, upstream)
        else:
            expose(case, person, via, T0, upstream)
            assert person not in w.upstream(case, via)
        assert acyclic(w.edges())
        for a, b in w.edges():  # nobody is downstream of their own contacts
            assert a not in w.downstream(b)


def test_the_cycle_rule_refuses_exactly_the_people_upstream() -> None:
    a, b = uuid4(), uuid4()
    check_no_cycle(a, [b])
    with pytest.raises(InvalidInput):
        check_no_cycle(a, [b, a])


# ---- hypothesis: the measure follows the latest exposure ------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20 * 24), min_size=1, max_size=8),
       st.sampled_from([TagKind.CLOSE_CONTACT, TagKind.SECONDARY_CONTACT]))
def test_the_measure_follows_the_latest_exposure_whatever_the_order_recorded(
        hours: list[int], kind: TagKind) -> None:
    case = new_case("C-0", PEOPLE[0])
    via = None
    if kind is TagKind.SECONDARY_CONTACT:
        via = expose(case, PEOPLE[1], None, T0)
    for h in hours:
        pid = expose(case, PEOPLE[2], via, T0 + timedelta(hours=h))
    contact = case.contact(pid)
    latest = T0 + timedelta(hours=max(hours))
    days = (DEFAULT_POLICY.close_contact_days if kind is TagKind.CLOSE_CONTACT
            else DEFAULT_POLICY.secondary_contact_days)
    assert contact.kind is kind and contact.last_exposure == latest
    assert contact.until == latest + timedelta(days=days)
    last = case.collect_events()[-1]
    assert isinstance(last, Case.ExposureRecorded) and last.until == contact.until


# ---- hypothesis: promotion and release are idempotent ---------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4), st.integers(0, 3), st.integers(1, 3))
def test_promotion_and_release_are_idempotent(seconds: int, others: int, times: int) -> None:
    case = new_case("C-0", PEOPLE[0])
    b = expose(case, PEOPLE[1], None, T0)
    other = expose(case, PEOPLE[2], None, T0)
    for n in range(seconds):
        expose(case, UUID(int=100 + n), b, T0 + timedelta(hours=n))
    for n in range(others):
        expose(case, UUID(int=200 + n), other, T0)
    case.collect_events()
    child = uuid4()
    first = case.promote_contacts_of(b, child, DOCTOR, DEFAULT_POLICY, T0)
    assert len(first) == seconds and all(c.kind is TagKind.CLOSE_CONTACT for c in first)
    assert all(c.until == c.last_exposure + timedelta(days=14) for c in first)
    for _ in range(times):
        assert case.promote_contacts_of(b, child, DOCTOR, DEFAULT_POLICY, T0) == []
    assert len(case.collect_events()) == seconds
    secondary = [c for c in case.contacts.values() if c.kind is TagKind.SECONDARY_CONTACT]
    assert len(secondary) == others  # the other close contact's contacts stay secondary
    released = case.rule_out(DOCTOR, "复检阴性", DEFAULT_POLICY, T0)
    assert len(released) == 2 + seconds + others
    for _ in range(times):
        assert case.rule_out(DOCTOR, "复检阴性", DEFAULT_POLICY, T0) == []
    assert len(case.collect_events()) == 1
    assert case.promote_contacts_of(other, child, DOCTOR, DEFAULT_POLICY, T0) == []


def test_a_confirmed_case_stays_confirmed_and_is_not_ruled_out() -> None:
    case = new_case("C-0", PEOPLE[0])
    assert case.confirm(DOCTOR, "阳性", T0) is True
    assert case.confirm(DOCTOR, "阳性", T0) is False
    with pytest.raises(Exception, match="confirmed"):
        case.rule_out(DOCTOR, "复检阴性", DEFAULT_POLICY, T0)


def test_two_sibling_cases_cannot_expose_each_others_index() -> None:
    """The case hypothesis found when the rule looked only up a case's own chain: two close
    contacts of one index, each opened as a case, each recorded as the other's contact."""
    w = World()
    root = w.cases[0]
    b = expose(root, PEOPLE[1], None, T0)
    c = expose(root, PEOPLE[2], None, T0)
    case_b = new_case("C-B", PEOPLE[1], (root, b))
    case_c = new_case("C-C", PEOPLE[2], (root, c))
    root.link_case(b, case_b.id, T0)
    root.link_case(c, case_c.id, T0)
    w.cases += [case_b, case_c]
    expose(case_b, PEOPLE[2], None, T0, w.upstream(case_b, None))  # B exposed C
    with pytest.raises(InvalidInput, match="upstream"):
        expose(case_c, PEOPLE[1], None, T0, w.upstream(case_c, None))  # C exposed B: a cycle
    assert acyclic(w.edges())
