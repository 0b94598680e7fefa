"""Erasing a resident shreds what contact-tracing cases hold of them (an erasure participant):
the traced identity of the contact matched to them reads back as erased, on every store, in
every case they are in; other contacts keep theirs, and the links by id stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.tracing import Case
from tests.conftest import Clock
from tests.scenario import COMMUNITY, given_community


def zhang(app: GridcoreApp, hid: UUID) -> UUID:
    h = app.household(hid)
    return next(rid for rid, r in h.residents.items() if r.identity.name == "张三")


def test_erasing_a_resident_shreds_their_traced_identity_in_every_case(
        make_app: Callable[[], GridcoreApp], clock: Clock) -> None:
    app = make_app()
    c = given_community(app)
    index_h = app.household(c.households[0])
    index_rid = next(iter(index_h.residents))
    app.open_case("WH-0001", COMMUNITY, "发热就诊", by=c.doctor, hid=index_h.id, rid=index_rid)
    app.open_case("WH-0002", COMMUNITY, "外来病例", by=c.doctor, name="外来者",
                  phone="13900009999")
    first, second = app.case_by_no("WH-0001").id, app.case_by_no("WH-0002").id
    erased_h, kept_h = c.households[1], c.households[2]
    erased_rid, kept_rid = zhang(app, erased_h), zhang(app, kept_h)
    t = clock.now - timedelta(hours=5)
    a = app.record_exposure(first, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                            name="张三", phone="13812341234", address="1栋201").person_id
    b = app.record_exposure(first, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                            name="张三", phone="13812341234").person_id
    outside = app.record_exposure(first, t, "household", "家中", "shared_living",
                                  by=c.doctor, name="外地亲戚", phone="13700001111").person_id
    assert app.match_contact(first, a, erased_h, erased_rid, by=c.doctor).applied
    assert app.match_contact(first, b, kept_h, kept_rid, by=c.doctor).applied
    again = app.record_exposure(second, t, "transport", "公交车", "same_space", by=c.doctor,
                                name="张三", phone="13812341234").person_id
    assert app.match_contact(second, again, erased_h, erased_rid, by=c.doctor).applied

    app.erase_resident(erased_h, erased_rid, "期满 retention over", by=System.OPERATOR)

    fresh = make_app()  # reads what the store holds, keys and all
    case = fresh.case(first)
    gone = case.contact(a).identity
    assert gone is not None and gone.erased and gone.name is None and gone.phone is None
    assert gone.address is None
    assert case.contact(a).resident_id == erased_rid  # the link by id stays
    kept = case.contact(b).identity
    assert kept is not None and not kept.erased and kept.name == "张三"
    assert kept.phone is not None and str.__str__(kept.phone) == "13812341234"
    other = case.contact(outside).identity
    assert other is not None and not other.erased and other.name == "外地亲戚"
    elsewhere = fresh.case(second)
    shredded = elsewhere.contact(again).identity
    assert shredded is not None and shredded.erased and shredded.name is None
    index = elsewhere.index_identity  # the outside index of the second case is untouched
    assert index is not None and not index.erased and index.name == "外来者"
    events = [e for cid in (first, second) for e in fresh.events.get(cid)
              if isinstance(e, Case.IdentityErased)]
    assert [(e.resident_id, e.erased_subject_ids) for e in events] == [
        (erased_rid, [a]), (erased_rid, [again])]
    assert fresh.household(erased_h).residents[erased_rid].erased


def test_a_case_holding_nothing_of_the_erased_resident_is_left_alone(
        app: GridcoreApp, clock: Clock) -> None:
    """A resident given as the index or as a contact by household and resident id was never
    described in the case: nothing to shred there."""
    c = given_community(app)
    h = app.household(c.households[0])
    rid = next(iter(h.residents))
    app.open_case("WH-0001", COMMUNITY, by=c.doctor, hid=h.id, rid=rid)
    cid = app.case_by_no("WH-0001").id
    contact_h = c.households[1]
    app.record_exposure(cid, clock.now - timedelta(hours=1), "household", "家中",
                        "shared_living", by=c.doctor, hid=contact_h,
                        rid=zhang(app, contact_h))
    before = len(list(app.events.get(cid)))
    app.erase_resident(h.id, rid, "期满", by=System.OPERATOR)
    app.erase_resident(contact_h, zhang(app, contact_h), "期满", by=System.OPERATOR)
    assert len(list(app.events.get(cid))) == before
