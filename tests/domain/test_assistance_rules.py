"""The rules of assistance lists (协查), pure: matching to the register, routing by address
(deterministic: the same sets, in any order, give the same place), deadlines from the policy,
completion counts that add up at every level, and an item's lifecycle (a reported item never
returns to pending except by forwarding)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.assistance import (
    AssistanceItem,
    AssistanceList,
    AssistanceRow,
    AssistanceSubject,
    ItemStatus,
    ListFormat,
    MatchBasis,
    ReceivedItem,
    Registered,
    RouteBasis,
    Source,
    Target,
    check_row,
    completion,
    deadline_for,
    match_resident,
    route,
)
from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput
from gridcore.grid import Level
from gridcore.policy import DEFAULT_POLICY

T0 = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
ID_ZHANG = "420102198503174516"
CITY, D1, D2, S1 = "4201", "420102", "420103", "420102001"
C1, C2, C3 = f"{S1}712", f"{S1}713", "420103001001"
G1, G2 = f"{C1}-01", f"{C1}-02"
TARGETS = [
    Target(CITY, "武汉市", Level.CITY),
    Target(D1, "江岸区", Level.DISTRICT, None, D1, ("武汉市",)),
    Target(D2, "江汉区", Level.DISTRICT, None, D2, ("武汉市",)),
    Target(S1, "后湖街道", Level.STREET, None, D1, ("江岸区", "武汉市")),
    Target(C1, "幸福社区", Level.COMMUNITY, C1, D1, ("后湖街道", "江岸区", "武汉市")),
    Target(C2, "712社区", Level.COMMUNITY, C2, D1, ("后湖街道", "江岸区", "武汉市")),
    Target(C3, "幸福社区", Level.COMMUNITY, C3, D2, ("民族街道", "江汉区", "武汉市")),
    Target(G1, "东片", Level.MICRO_GRID, C1, D1, ("幸福社区", "后湖街道", "江岸区", "武汉市")),
    Target(G2, "西片", Level.MICRO_GRID, C1, D1, ("幸福社区", "后湖街道", "江岸区", "武汉市")),
]
ADDRESSES = {C1: [("3栋101", G2), ("5栋202", G1)]}


def subject(**values: object) -> AssistanceSubject:
    return AssistanceSubject(subject_id=uuid4(), **values)  # type: ignore[arg-type]


# ---- matching --------------------------------------------------------------------------------

def resident(name: str | None, phone: str | None, number: str | None,
             grid: str = G1) -> Registered:
    return Registered(uuid4(), uuid4(), grid, name, phone, number)


def test_a_match_is_by_id_number_else_phone_and_name_and_only_when_unique() -> None:
    zhang = resident("张三", "13812341234", ID_ZHANG)
    li = resident("李四", "13900002222", None, G2)
    found = match_resident(subject(name="张叁", id_number=ID_ZHANG), [li, zhang])
    assert found is not None and found.basis is MatchBasis.ID_NUMBER
    assert found.resident_id == zhang.resident_id
    found = match_resident(subject(name="李四", phone="13900002222"), [zhang, li])
    assert found is not None and (found.basis, found.micro_grid) == (MatchBasis.PHONE_NAME, G2)
    assert match_resident(subject(name="李四"), [li]) is None  # a name alone: no match
    assert match_resident(subject(phone="13900002222"), [li]) is None  # a phone alone: none
    twin = resident("李四", "13900002222", None, G1)  # a family's shared phone and name
    assert match_resident(subject(name="李四", phone="13900002222"), [li, twin]) is None


@given(st.permutations(range(4)))
def test_matching_does_not_depend_on_the_register_order(order: list[int]) -> None:
    people = [resident("张三", "13812341234", ID_ZHANG), resident("李四", "13900002222", None),
              resident("王五", None, None), resident("李四", "13900003333", None)]
    shuffled = [people[i] for i in order]
    for s in (subject(id_number=ID_ZHANG), subject(name="李四", phone="13900002222"),
              subject(name="王五")):
        assert match_resident(s, shuffled) == match_resident(s, people)


# ---- routing ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "district", "place", "owner", "basis"), [
    (f"武汉市{C2}号", None, C2, C2, RouteBasis.CODE),
    ("后湖街道712社区8栋", None, C2, C2, RouteBasis.COMMUNITY),
    ("江岸区幸福社区东片", None, G1, C1, RouteBasis.MICRO_GRID),
    ("江岸区幸福社区3栋101", None, G2, C1, RouteBasis.HOUSEHOLD_ADDRESS),
    ("幸福社区", "江汉区", C3, C3, RouteBasis.COMMUNITY),  # the district tells them apart
    ("幸福社区", None, CITY, CITY, RouteBasis.SCOPE),  # not told apart: no community
    ("某小区", "江汉区", D2, D2, RouteBasis.DISTRICT),
    ("江岸区幸福路712号", None, D1, D1, RouteBasis.DISTRICT),  # a house number, no community
    ("某小区", None, CITY, CITY, RouteBasis.SCOPE),
    (None, None, CITY, CITY, RouteBasis.SCOPE),
])
def test_routing_by_address(address: str | None, district: str | None, place: str, owner: str,
                            basis: RouteBasis) -> None:
    r = route(address, district, CITY, TARGETS, ADDRESSES)
    if address == "幸福社区" and district is None:  # two of the name, nothing to tell them
        assert r.reason is not None and "several" in r.reason
    assert (r.place, r.owner, r.basis) == (place, owner, basis)
    assert (r.reason is None) == (basis not in (RouteBasis.DISTRICT, RouteBasis.SCOPE))


WORDS = st.sampled_from(["幸福社区", "712社区", "东片", "西片", "江岸区", "江汉", "后湖街道",
                         "3栋101", "5栋202", "某小区", C2, "民族街道", ""])


@settings(max_examples=200)
@given(st.lists(WORDS, max_size=4), st.sampled_from(["", "江岸区", "江汉区", "武汉市"]),
       st.randoms(use_true_random=False))
def test_routing_is_deterministic_whatever_the_order_of_the_register(
        words: list[str], district: str, rnd: object) -> None:
    address = "".join(words)
    first = route(address, district, CITY, TARGETS, ADDRESSES)
    targets = list(TARGETS)
    homes = {c: list(v) for c, v in ADDRESSES.items()}
    rnd.shuffle(targets)  # type: ignore[attr-defined]
    for v in homes.values():
        rnd.shuffle(v)  # type: ignore[attr-defined]
    assert route(address, district, CITY, targets, homes) == first
    assert route(address, district, CITY, TARGETS, ADDRESSES) == first
    assert first.place in {t.code for t in TARGETS}


# ---- rows and deadlines -------------------------------------------------------------------------

def test_a_row_is_checked_naming_it_and_never_repeating_a_value() -> None:
    sid = uuid4()
    s, district = check_row(AssistanceRow(name=" 张三 ", phone="+86 138 1234 1234",
                                          district="江岸区"), sid, 1)
    assert (s.name, s.phone, district, s.subject_id) == ("张三", "13812341234", "江岸区", sid)
    for row, needle in ((AssistanceRow(name="x", phone="12345", address="a"), "phone"),
                        (AssistanceRow(name="x", id_number="420102198503174517", address="a"),
                         "ID number"),
                        (AssistanceRow(address="幸福社区"), "nothing identifies"),
                        (AssistanceRow(name="x"), "neither matched nor routed"),
                        (AssistanceRow(name="x" * 61, address="a"), "name"),
                        (AssistanceRow(name="x\u202e", address="a"), "control")):
        with pytest.raises(InvalidInput) as e:
            check_row(row, sid, 7)
        assert e.value.problem.startswith("Row 7") and needle in e.value.problem
        assert "12345" not in str(e.value) and "174517" not in str(e.value)
    check_row(AssistanceRow(id_number=ID_ZHANG), sid, 1)  # an ID number alone is matchable


def test_the_deadline_is_the_policys_hours() -> None:
    assert deadline_for(T0, DEFAULT_POLICY) == T0 + timedelta(hours=24)
    assert deadline_for(T0, DEFAULT_POLICY.with_changes(assistance_hours=6)) == T0 + timedelta(
        hours=6)
    with pytest.raises(Exception):  # noqa: B017 - bounded like every policy number
        DEFAULT_POLICY.with_changes(assistance_hours=0)


# ---- completion ---------------------------------------------------------------------------------

PARENT = {G1: C1, G2: C1, C1: S1, C2: S1, S1: D1, C3: D2, D1: CITY, D2: CITY, CITY: None}


def chain(code: str) -> list[str]:
    out: list[str] = []
    current: str | None = code
    while current is not None:
        out.append(current)
        current = PARENT[current]
    return out


def item(no: int, place: str, status: ItemStatus, missed: int = 0,
         deadline: datetime | None = T0) -> AssistanceItem:
    return AssistanceItem(no=no, subject=subject(name="x"), district=None, place=place,
                          owner=place, owner_level=Level.COMMUNITY, basis=RouteBasis.COMMUNITY,
                          status=status, since=T0 - timedelta(hours=24), deadline=deadline,
                          missed=missed)


@given(st.lists(st.tuples(st.sampled_from(sorted(PARENT)), st.sampled_from(list(ItemStatus)),
                          st.integers(0, 2), st.booleans()), max_size=40))
def test_completion_counts_add_up_at_every_level(specs: list[tuple[str, ItemStatus, int,
                                                                  bool]]) -> None:
    items = [item(n, place, status, missed, T0 if late else T0 + timedelta(days=1))
             for n, (place, status, missed, late) in enumerate(specs, start=1)]
    counts = completion(items, chain, T0)
    for code, c in counts.items():
        assert c.total == c.pending + c.found + c.not_found + c.moved_away + c.wrong_data
        assert 0 <= c.overdue <= c.pending and c.done == c.total - c.pending
        own = sum(1 for i in items if i.place == code)
        children = sum(counts[k].total for k, p in PARENT.items() if p == code and k in counts)
        assert c.total == own + children
    if items:
        assert counts[CITY].total == len(items)
        assert counts[CITY].overdue == sum(1 for i in items if i.overdue(T0))


# ---- the lifecycle ------------------------------------------------------------------------------

def received(n: int = 3) -> AssistanceList:
    items = [ReceivedItem(no=k, subject=subject(name=f"p{k}"), district=None, place=C1,
                          owner=C1, owner_level=Level.COMMUNITY, basis=RouteBasis.COMMUNITY,
                          deadline=deadline_for(T0, DEFAULT_POLICY)) for k in range(1, n + 1)]
    return AssistanceList.receive(Source.OTHER_CITY, "孝感", "L-1", ListFormat.API, CITY, None,
                                  items, T0)


OPS = st.tuples(st.sampled_from(["found", "not_found", "wrong_data", "moved_away",
                                 "forward_community", "forward_city", "escalate"]),
                st.integers(1, 3), st.integers(0, 30))


@settings(max_examples=150)
@given(st.lists(OPS, max_size=25))
def test_a_reported_item_never_returns_to_pending_except_by_forwarding(
        ops: list[tuple[str, int, int]]) -> None:
    a = received()
    a.collect_events()
    now = T0
    by = UUID(int=7)
    for op, no, hours in ops:
        now += timedelta(hours=hours)
        before = [i.status for i in a.items]
        try:
            if op in ("found", "not_found", "wrong_data", "moved_away"):
                a.report(no, ItemStatus(op), by, now, "居家" if op == "found" else None)
            elif op == "forward_community":
                a.forward(no, by, now, DEFAULT_POLICY, to_code=C2 if a.items[no - 1].place != C2
                          else C1)
            elif op == "forward_city":
                a.forward(no, by, now, DEFAULT_POLICY, to_city="孝感市")
            else:
                due = a.next_due(now)
                if due is not None:
                    owner = due.owner
                    up = PARENT.get(owner)
                    a.escalate(due.no, up, Level.STREET if up else None, DEFAULT_POLICY, now)
        except GridcoreError as e:
            assert isinstance(e, InvalidInput | ForbiddenTransition)
            assert [i.status for i in a.items] == before  # a refused decision changes nothing
            assert a.collect_events() == []
            continue
        events = a.collect_events()
        for k, (old, new) in enumerate(zip(before, (i.status for i in a.items), strict=True)):
            if old is not ItemStatus.PENDING and new is ItemStatus.PENDING:
                assert any(isinstance(e, AssistanceList.Forwarded) and e.no == k + 1
                           for e in events), (op, k + 1)
        assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    for i in a.items:
        if i.status is not ItemStatus.PENDING:
            assert i.deadline is None
        if i.status in (ItemStatus.FOUND,):
            assert i.measure


def test_found_needs_its_measure_and_done_items_stay_done() -> None:
    a = received()
    with pytest.raises(InvalidInput, match="measure"):
        a.report(1, ItemStatus.FOUND, None, T0)
    with pytest.raises(InvalidInput, match="only for a person found"):
        a.report(1, ItemStatus.NOT_FOUND, None, T0, "居家")
    with pytest.raises(InvalidInput, match="phone"):  # free text keeps no personal number
        a.report(1, ItemStatus.FOUND, None, T0, "联系13812341234")
    a.report(1, ItemStatus.FOUND, None, T0, "居家隔离")
    for op in (lambda: a.report(1, ItemStatus.WRONG_DATA, None, T0),
               lambda: a.forward(1, None, T0, DEFAULT_POLICY, to_code=C2)):
        with pytest.raises(ForbiddenTransition):
            op()
    with pytest.raises(GridcoreError, match="no item 9"):
        a.item(9)


def test_a_policy_stored_without_assistance_hours_reads_with_the_default() -> None:
    from gridcore.policy import Policy

    old = {k: v for k, v in DEFAULT_POLICY.model_dump().items() if k != "assistance_hours"}
    assert Policy.model_validate(old).assistance_hours == 24
