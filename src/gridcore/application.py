"""The library's front door: one application whose command methods read like the seeds' verbs.

``GridcoreApp`` gathers the command mixins of each area (grid, households and status, staff and
assignment); ``gridcore.app_base`` holds what they share. Import from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gridcore.alert_commands import AlertCommands
from gridcore.app_base import (
    MAX_BATCH,
    HouseholdRow,
    RegistrationReport,
    collection_paused,
    command,
    utc_now,
)
from gridcore.assistance_commands import AssistanceCommands
from gridcore.authority import Of, Place
from gridcore.building import BuildingRow
from gridcore.chat_commands import ChatCommands
from gridcore.delivery_commands import DeliveryCommands
from gridcore.enterprise_commands import EnterpriseCommands
from gridcore.errors import InvalidInput, NotFound
from gridcore.field_sync import FieldSyncCommands
from gridcore.grid import GridNode, node_id
from gridcore.grid_commands import GridCommands
from gridcore.household import new_member
from gridcore.household_commands import ErasureParticipant, HouseholdCommands
from gridcore.location_commands import LocationCommands
from gridcore.mass_testing_commands import MassTestingCommands
from gridcore.monitoring_commands import MonitoringCommands
from gridcore.notification_commands import NotificationCommands
from gridcore.push_commands import PushCommands
from gridcore.referral_commands import ReferralCommands
from gridcore.report_commands import ReportCommands
from gridcore.request_commands import RequestCommands
from gridcore.risk import RISK_REGISTER_ID, RiskRegister
from gridcore.staff import StaffRow
from gridcore.staff_commands import ASSIGNABLE_ROLES, EnrolmentReport, StaffCommands
from gridcore.sweep_commands import SweepCommands
from gridcore.tracing_commands import TracingCommands
from gridcore.zoning_commands import ZoningCommands


class GridcoreApp(ZoningCommands, LocationCommands, NotificationCommands, MonitoringCommands,
                  FieldSyncCommands, SweepCommands,
                  ReferralCommands,
                  MassTestingCommands, TracingCommands,
                  AssistanceCommands, PushCommands, HouseholdCommands,
                  StaffCommands, DeliveryCommands, EnterpriseCommands, RequestCommands,
                  AlertCommands, ChatCommands, ReportCommands, GridCommands):
    """Grid hierarchy, households and resident status, staff and assignment, and the field
    operations: sweeps, referrals, deliveries, enterprise resumption, residents' requests,
    risk zoning around cases (三区划分: locations, tracing, households and sweeps as bases),
    and offline field sync.

    An area that calls another names it as a base (field sync: sweeps and deliveries; sweeps:
    referrals and households; households: staff), so each call is type-checked; look-ups
    several areas use live on ``ApplicationBase``; no two areas define the same method."""

    name = "gridcore"

    def _erasure_participants(self) -> Sequence[ErasureParticipant]:
        """Who else erases a resident's data in the resident's transaction: the staff area
        (a resident who is staff), the requests area (what they filed), the chat area
        (held messages they sent), contact tracing (what cases knew of them) and assistance lists
        (what a list said of a person matched to them)."""
        return (self._staff_erased_with_resident, self._requests_erased_with_resident,
                self._chats_erased_with_resident, self._cases_erased_with_resident,
                self._assistance_erased_with_resident)

    def _places_of(self, place: Place, arguments: dict[str, Any]) -> list[str | None]:
        """The node codes a command acts at (``gridcore.authority.Of``): a parameter given as
        None names no place (a risk area declared for the declaring official's own
        jurisdiction, a request filed by household), except ``Of.CITY``."""
        if place.of is Of.CITY:
            return [None]
        value = arguments.get(place.param)
        if value is None:
            return []
        try:
            return self._place_codes(place.of, value, arguments)
        except (TypeError, ValueError, AttributeError, KeyError):
            raise InvalidInput(f"The {place.param} given is malformed.",
                               f"Give the {place.of.value} the command acts on.") from None

    def _place_codes(self, of: Of, value: Any, arguments: dict[str, Any]) -> list[str | None]:
        match of:
            case Of.NODE:
                codes = [value] if isinstance(value, str) else list(value)
                return [self.node(c).code for c in codes]
            case Of.HOUSEHOLD:
                return [self.household(value).micro_grid]
            case Of.ROWS:
                return list(dict.fromkeys(r.micro_grid for r in value))
            case Of.STAFF_ROWS:
                return list(dict.fromkeys(c for r in value for c in r.codes))
            case Of.VISIT_ROWS:
                hids = dict.fromkeys(r.household_id for r in value)
                return list(dict.fromkeys(self.household(h).micro_grid for h in hids))
            case Of.STAFF:
                return list(self.staff(value).jurisdictions)
            case Of.CAMPAIGN:
                return [self.campaign(value).scope]
            case Of.CASE:  # the grid node that follows the case up
                return [self.case(value).scope]
            case Of.REFERRAL:  # the resident's household: its micro-grid's worker follows it
                return [self.household(self.referral(value).household_id).micro_grid]
            case Of.ENTERPRISE:
                return [self.enterprise(value).location]
            case Of.DELIVERY:
                d = self.delivery(value)
                return [self.household(d.household_id).micro_grid
                        if d.household_id is not None else d.desk]
            case Of.REQUEST:
                return [self._request_of(value).community]
            case Of.ALERT:
                return [self.alert(value).grid_code]
            case Of.CAMERA:
                return [self.camera(value).grid_code]
            case Of.CHECKPOINT:
                return [self.checkpoint(value).grid_code]
            case Of.QUARANTINE_SITE:
                return [self.quarantine_site_by_code(value).node_code]
            case Of.TESTING:
                return [self.testing_campaign(value).scope]
            case Of.TUBE:
                return [self.testing_campaign_of_tube(value).scope]
            case Of.PARENT:  # the level above reviews the node's report
                return [self.node(value).parent_code]
            case Of.FEATURES:  # an unknown code is the command's to report, with the rest
                found = (self._find(GridNode, node_id(code)) for code, _ in value)
                return list(dict.fromkeys(n.code for n in found if n is not None))
            case Of.ASSISTANCE:  # where the listed person is to be located
                return [self.assistance_list(value).item(arguments["item_no"]).place]
            case Of.ZONING:
                return [self.risk_zoning(value).community]
            case Of.DECLARATION:
                register = self._find(RiskRegister, RISK_REGISTER_ID)
                if register is None:
                    raise NotFound(f"No declaration {value}.", "Check the declaration id.")
                return [register.scope_of(value, arguments["area"])]
        raise AssertionError(of)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Record everything that became overdue at ``now`` (default: the clock), exactly
        once however often it runs; returns how many items of each kind became overdue."""
        at = now or self.clock()
        return {
            "referrals": self.tick_referrals(at),
            "deliveries": self.tick_deliveries(at),
            "enterprises": self.tick_enterprises(at),
            "requests": self.tick_requests(at),
            "sweeps": self.tick_sweeps(at),
            "alerts": self.tick_alerts(at),
            "assistance": self.tick_assistance(at),
            "monitoring": self.tick_monitoring(at),
            "risk_zonings": self.tick_risk_zonings(at),
            "reports": self.tick_reports(at),
        }


__all__ = [
    "ASSIGNABLE_ROLES",
    "MAX_BATCH",
    "BuildingRow",
    "EnrolmentReport",
    "GridcoreApp",
    "HouseholdRow",
    "RegistrationReport",
    "StaffRow",
    "collection_paused",
    "command",
    "new_member",
    "utc_now",
]
