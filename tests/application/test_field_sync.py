"""Offline field sync of delivery confirmations (visits are covered in test_sweeps)."""

from __future__ import annotations

from datetime import timedelta

from gridcore.authority import System
from gridcore.delivery import DeliveryKind, DeliveryState, Item, delivery_id
from gridcore.field_sync import DeliveryConfirmation, SyncStatus
from tests.scenario import COMMUNITY, given_community


def dispatched(app, clock):
    c = given_community(app, households_per_zone=2)
    app.donate_to_scope(COMMUNITY, "AX-1", [Item(name="爱心菜", quantity=1)], by=System.OPERATOR)
    app.dispatch_deliveries(COMMUNITY, staff=[c.volunteer], by=System.OPERATOR)
    ids = [delivery_id(DeliveryKind.DONATION, f"AX-1/712-{z}-{n}") for z in (1, 2)
           for n in (0, 1)]
    clock.advance(hours=1)
    return c, ids


def test_confirmations_apply_once_and_stale_ones_come_back_with_the_state(app, clock):
    c, ids = dispatched(app, clock)
    seen = {d: app.delivery(d).version for d in ids}
    handed = clock.now - timedelta(minutes=30)
    batch = [DeliveryConfirmation("dev-1", ids[0], seen[ids[0]], c.volunteer, handed),
             DeliveryConfirmation("dev-2", ids[1], seen[ids[1]], c.volunteer, handed,
                                  failed_reason="无人应答 no answer")]
    results = app.sync_field_records(batch)
    assert [r.status for r in results] == [SyncStatus.APPLIED, SyncStatus.APPLIED]
    assert app.delivery(ids[0]).state is DeliveryState.DELIVERED
    assert app.delivery(ids[0]).delivered_at == handed
    assert app.delivery(ids[1]).state is DeliveryState.FAILED
    again = app.sync_field_records(batch)
    assert [r.status for r in again] == [SyncStatus.DUPLICATE, SyncStatus.DUPLICATE]
    stale = app.sync_field_records([DeliveryConfirmation("dev-3", ids[1], seen[ids[1]],
                                                         c.volunteer, handed)])
    assert stale[0].status is SyncStatus.STALE
    assert stale[0].current == {"version": app.delivery(ids[1]).version, "state": "failed",
                                "attempts": app.delivery(ids[1]).attempts}
    assert app.delivery(ids[1]).state is DeliveryState.FAILED


def test_a_bad_record_is_rejected_with_its_reason_and_the_rest_still_apply(app, clock):
    c, ids = dispatched(app, clock)
    future = clock.now + timedelta(hours=2)
    results = app.sync_field_records([
        DeliveryConfirmation("dev-9", ids[2], app.delivery(ids[2]).version, c.volunteer,
                             future),
        DeliveryConfirmation("dev-10", ids[3], app.delivery(ids[3]).version, c.volunteer,
                             clock.now),
    ])
    assert results[0].status is SyncStatus.REJECTED and results[0].message
    assert results[1].status is SyncStatus.APPLIED
    assert app.delivery(ids[2]).state is DeliveryState.DISPATCHED
