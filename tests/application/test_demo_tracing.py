"""The 712 demo's case (流调, 21 Feb): the households it picks are untouched by everything the
demo does before it (so its story is the one it tells), the case and its chain are as told,
what follows for the residents is applied by the household's rules, and running the demo
again writes nothing."""

from __future__ import annotations

import random

from adapters import demo, demo_field, demo_screening
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.status import Health, Measure, TagKind
from gridcore.tracing import CaseStatus, Generation


def test_the_demo_case_with_its_chain_on_untouched_households() -> None:
    clock = demo.ScenarioClock()
    app = GridcoreApp(memory_env(), clock=clock)
    demo.build(app)
    rng = random.Random(2020)  # as demo_field.run: the field operations before the case
    demo_field.sweep(app, clock, rng)
    demo_field.referrals(app, clock)
    demo_field.requests(app, clock)
    picked = [app.household_by_no(no) for no in (demo_field.INDEX_HOME,
                                                 demo_field.NEIGHBOUR_HOME,
                                                 demo_field.YARD_HOME,
                                                 demo_field.WORKMATE_HOME)]
    for h in picked:
        assert all(not r.tags and r.measure is Measure.NONE and r.health is Health.NORMAL
                   for r in h.residents.values()), h.household_no
    assert {h.micro_grid for h in picked} == {demo_field.TRACING_ZONE}

    demo_field.tracing(app, clock)
    demo_field.deliveries(app, clock, rng)
    case = app.case_by_no(demo_field.CASE_NO)
    assert case.status is CaseStatus.CONFIRMED
    assert case.opened_by == app.staff_by_no("712-DOC").id
    assert case.scope == demo_field.TRACING_ZONE
    home = app.household_by_no(demo_field.INDEX_HOME)
    index, spouse = list(home.residents.values())[:2]
    assert case.index_resident_id == index.resident_id
    assert home.residents[index.resident_id].health is Health.CONFIRMED

    by = app.contacts_by_generation(case.id)
    close, secondary = by[Generation.CLOSE], by[Generation.SECONDARY]
    assert len(close) == 4 and len(secondary) == 1
    matched = [c for c in close if c.resident_id is not None]
    assert [c.resident_id for c in matched] == [
        spouse.resident_id,
        next(iter(app.household_by_no(demo_field.NEIGHBOUR_HOME).residents))]
    [relative] = [c for c in close if c.to_locate and c.proposal is None]
    assert relative.identity is not None and relative.identity.name == "陈志明"
    [proposed] = [c for c in close if c.proposal is not None]
    assert proposed.resident_id is None
    assert proposed.proposal is not None
    assert proposed.proposal.household_id == app.household_by_no(demo_field.YARD_HOME).id
    [workmate] = secondary
    assert workmate.via == close[0].person_id  # the spouse's workmate
    assert workmate.household_id == app.household_by_no(demo_field.WORKMATE_HOME).id
    after = app.household(home.id).residents[spouse.resident_id]
    assert TagKind.CLOSE_CONTACT in after.tags and after.measure is not Measure.NONE
    yard = app.household_by_no(demo_field.YARD_HOME)
    assert all(not r.tags for r in yard.residents.values())  # a proposal applies nothing
    assert [link.case_no for link in app.chain(case.id)] == [demo_field.CASE_NO]
    told = demo_field.tracing_story(app)
    assert (told.close, told.secondary, told.to_locate, told.proposed) == (4, 1, 2, 1)

    demo_screening.assistance(app, clock)  # the rest of demo_field.run
    demo_screening.testing(app, clock)
    demo_field.finale(app, clock)
    written = app.recorder.max_notification_id()
    demo.build(app)
    demo_field.run(app, clock)
    assert app.recorder.max_notification_id() == written  # every command was applied once
