"""Who may give each command, and where (pure rules): the one home of authorization.

Every command of the application names its acting party explicitly (``by``): a staff member's
id, or one of the ``System`` actors when no person gives it (a camera feed, the clock, the
operator's console, a resident through the public door); nothing defaults to "the system".
``AUTHORITY`` below says, for every command, which roles and which system actors may give it,
the lowest level the giver's jurisdiction may be at, and the places it acts at (its
``Place``s: the node codes, or the household, referral, campaign... whose place counts), which
must lie in a staff member's jurisdiction. The ``command`` decorator (``app_base``) applies
it before the command runs, so the API, the CLI, ``gridcore ingest``, the stream worker, the
simulations and a municipal system importing the library all pass the same check; a refusal
(``NotAuthorised``) writes nothing.

What a rule here cannot say stays with the aggregate that owns the decision: which measure
a role may impose (the policy in force names the roles per measure, ``status``), that an
enterprise's own specialist reviews it (``enterprise.check_actor``). Those narrow what the
table allows; they never widen it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from gridcore.errors import NotPermitted
from gridcore.grid import Level
from gridcore.staff import FIELD_ROLES, Role


class System(StrEnum):
    """An acting party that is no staff member. Each is named for what it is; a command
    names which of them may give it."""

    OPERATOR = "operator"
    """运维 the operator of the installation: the ``gridcore`` command line at the server,
    ``gridcore ingest`` and a municipal system embedding the library, loading registers,
    setting up the tree, devices and sites. Decisions about a person (health, measures, tags,
    a referral's steps) are never theirs: a staff member answers for those."""
    FEED = "feed"
    """设备 the devices' feeds through the stream worker: cameras and vehicle checkpoints; and
    a micro-grid chat group's bot delivering residents' own check-ins (群内自报); an SMS
    gateway's delivery receipts (短信回执, ``graphql_api.sms_receipts``)."""
    AUTOMATION = "automation"
    """自动 the system's own processes: the clock's ticks (escalation, overdue marks), the
    findings follow-up of a visit no staff member recorded."""
    PUBLIC = "public"
    """居民 a resident through the public door (the hotline, the app, signed in or not):
    files a request, and rates or reopens it with its reference."""

    @property
    def label(self) -> str:
        return SYSTEM_LABELS[self]


SYSTEM_LABELS = {
    System.OPERATOR: "运维 the operator",
    System.FEED: "设备 a device feed",
    System.AUTOMATION: "自动 the system's own process",
    System.PUBLIC: "居民 a resident",
}

Actor = UUID | System
"""Who gives a command: a staff member (their id) or a named system actor."""


def staff_of(by: Actor) -> UUID | None:
    """The staff member an event records as its author (None: a system actor)."""
    return by if isinstance(by, UUID) else None


class Of(StrEnum):
    """What a command's parameter names, to find the place (node code) it acts at."""

    NODE = "node"
    """a node code, or a list of node codes (None: the whole city)"""
    CITY = "city"
    """the whole city (the parameter is not read)"""
    HOUSEHOLD = "household"
    ROWS = "rows"
    """rows of a register, each naming its micro-grid"""
    VISIT_ROWS = "visit_rows"
    """rows of a batch of visits, each naming its household"""
    STAFF_ROWS = "staff_rows"
    """rows of a roster, each naming its jurisdiction (one node code or several)"""
    STAFF = "staff"
    """a staff member, at their jurisdiction"""
    CAMPAIGN = "campaign"
    REFERRAL = "referral"
    CASE = "case"
    """a contact-tracing case, at the grid node that follows it up"""
    ENTERPRISE = "enterprise"
    DELIVERY = "delivery"
    REQUEST = "request"
    ALERT = "alert"
    CAMERA = "camera"
    CHECKPOINT = "checkpoint"
    DECLARATION = "declaration"
    """a risk-area declaration (``declaration_id`` with its ``area``), at its scope"""
    ASSISTANCE = "assistance"
    """an item of an assistance list (``list_id`` with its ``item_no``), at the node the
    person is to be located in"""
    TESTING = "testing"
    """a mass-testing campaign, at its scope"""
    TUBE = "tube"
    """a sample tube's code, at the scope of the testing campaign it belongs to"""
    QUARANTINE_SITE = "quarantine_site"
    """a quarantine site's code, at the district or street that runs it"""
    ZONING = "zoning"
    """a risk zoning (三区划分), at its community"""
    PARENT = "parent"
    """the parent of a node code: the level above, which reviews the node's daily report
    (the city: the whole city)"""
    FEATURES = "features"
    """a batch of boundaries, (code, area) pairs: at each node drawn (an unknown code is
    left to the command, which reports every feature's problem)"""


@dataclass(frozen=True)
class Place:
    """The place a command acts at: what parameter ``param`` names (``of``)."""

    of: Of
    param: str = ""


def at(of: Of, param: str = "") -> Place:
    return Place(of, param)


@dataclass(frozen=True)
class Rule:
    """Who may give a command: staff ``roles`` (from a jurisdiction at ``level`` or above,
    when a level is named) and ``systems``; the ``places`` it acts at, each of which must lie
    in a staff giver's jurisdiction (none named: the command acts at no place of the tree,
    such as a plate's travel record). ``own`` names a parameter: the staff member it names
    may give the command about themself whatever their role (reporting unavailable)."""

    roles: frozenset[Role]
    systems: frozenset[System] = frozenset()
    places: tuple[Place, ...] = ()
    level: Level | None = None
    own: str | None = None


def rule(roles: frozenset[Role], *places: Place, systems: Sequence[System] = (),
         level: Level | None = None, own: str | None = None) -> Rule:
    return Rule(frozenset(roles), frozenset(systems), places, level, own)


ALL_STAFF = frozenset(Role)
OFFICIALS = frozenset({Role.OFFICIAL})
POLICE_AND_OFFICIALS = frozenset({Role.OFFICIAL, Role.COMMUNITY_POLICE})
MEDICAL = frozenset({Role.FAMILY_DOCTOR})
SHAPERS = OFFICIALS
"""The tree is the administration's own structure: officials shape it."""
ENROLLERS = OFFICIALS
"""Officials enrol staff, name responsible workers and form squads."""
DISPATCHERS = frozenset({Role.OFFICIAL, Role.DUTY_LEAD})
"""Officials and the duty lead (总值班) assign rounds and move work between people."""
ORGANISERS = DISPATCHERS
"""Who launches and closes campaigns and runs the findings follow-up."""
REGISTRARS = frozenset({Role.OFFICIAL, Role.GRID_WORKER, Role.COMMUNITY_POLICE})
"""Who keeps the register: grid workers collect it (入户摸排), police keep 户籍, officials."""
MARKERS = REGISTRARS | MEDICAL
"""Who may declare a vulnerability: the registrars and the family doctor."""
TESTERS = frozenset({Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.GRID_WORKER})
"""Who enters a test result: the doctor, and the grid worker or official who collected it."""
ERASERS = OFFICIALS
"""Erasure destroys a person's data for good: an official's decision."""
PUSHERS = OFFICIALS
"""Who pushes a register from another system (接口推送): officials of the scope (and the
operator); a grid worker registers households one by one, as collected."""
ADOPTERS = OFFICIALS
"""Officials adopt a policy (of the whole city)."""
VISITORS = FIELD_ROLES | MEDICAL | POLICE_AND_OFFICIALS
"""Who sweeps households (the roles a round is assigned to)."""
HEALTH_REPORTERS = FIELD_ROLES | MEDICAL
"""Field staff report symptoms they see; the policy's medical roles decide the rest."""
MEASURERS = FIELD_ROLES | MEDICAL | POLICE_AND_OFFICIALS
"""Who may change a measure at all; the policy in force names who imposes or releases which."""
TAGGERS = MEASURERS
UNTAGGERS = MEDICAL | OFFICIALS
REFERRERS = FIELD_ROLES | MEDICAL | POLICE_AND_OFFICIALS | {Role.DUTY_LEAD}
"""Who opens a referral: whoever finds the case, and the duty lead."""
TRANSFER = MEDICAL | POLICE_AND_OFFICIALS | {Role.DUTY_LEAD, Role.GRID_WORKER}
"""Who takes a referral through its steps (转运 transport, 劝导 persuasion, admission)."""
ALERT_HANDLERS = FIELD_ROLES | POLICE_AND_OFFICIALS | {Role.DUTY_LEAD}
REQUEST_HANDLERS = FIELD_ROLES | POLICE_AND_OFFICIALS | {Role.DUTY_LEAD, Role.PROPERTY_MANAGER}
COURIERS = FIELD_ROLES | {Role.PROPERTY_MANAGER, Role.DUTY_LEAD, Role.OFFICIAL}
"""Who delivers to sealed doors (送货上门) and reports a delivery that failed."""
SUPPLIERS = DISPATCHERS
"""Who dispatches, redelivers and takes donations for an area."""
ORDER_TAKERS = FIELD_ROLES | {Role.PROPERTY_MANAGER, Role.DUTY_LEAD, Role.OFFICIAL}
"""Who takes a sealed household's order (团购 group buying through the building's workers)."""
ENTERPRISE_STAFF = frozenset({Role.ENTERPRISE_SPECIALIST, Role.OFFICIAL})
TRACERS = MEDICAL | POLICE_AND_OFFICIALS
"""Who traces contacts (流调): the doctors, the police who help find people, officials; the
household's rules then say which measure each may impose (``status``)."""
DIAGNOSERS = MEDICAL
"""Who confirms or rules out a case: a medical decision, as a confirmed health is."""
ASSISTANCE_RECEIVERS = OFFICIALS
"""Who receives an assistance list (协查名单) from outside: city and district officials (the
rule's level), and the operator loading a file at the server."""
ASSISTANCE_REPORTERS = FIELD_ROLES | MEDICAL | POLICE_AND_OFFICIALS | {Role.DUTY_LEAD}
"""Who reports or forwards a listed person (落地排查): the community's staff who locate
people, and officials, for the places in their jurisdiction."""
TESTING_LAUNCHERS = OFFICIALS
"""Who launches a mass-testing campaign (全员核酸检测): officials, for their jurisdiction."""
SAMPLERS = FIELD_ROLES | MEDICAL
"""Who takes samples and seals tubes: field staff and medical staff (the policy's field and
medical roles name who a sample may be recorded as taken by)."""
LAB_REPORTERS = MEDICAL
"""Who records a tube's lab result: medical staff, who answer for the temporary control, the
retests and the case a positive calls for."""
CHAT_REVIEWERS = frozenset({Role.GRID_WORKER, Role.FAMILY_DOCTOR, Role.COMMUNITY_POLICE,
                            Role.OFFICIAL, Role.DUTY_LEAD})
"""Who works a micro-grid's held chat messages (待核实): the roles that read them whole (who
sent them, what they said) because they deal with residents in person and follow a report
up; they resolve them too."""

ZONERS = OFFICIALS
"""Who draws, applies, sweeps and lifts risk zones (三区划分): officials of the community's
street or above (the rules' level); the clock lifts quiet zones by the rule."""

REPORTERS = OFFICIALS
"""Who submits and corrects a node's daily report (日报): its officials."""
REPORT_REVIEWERS = OFFICIALS
"""Who approves or returns a daily report: officials of the level above (a street's or
higher: the rule's level), never the version's own submitter (``daily_report``)."""

MONITORS = FIELD_ROLES | MEDICAL | POLICE_AND_OFFICIALS | {Role.DUTY_LEAD}
"""Who follows residents under a measure (健康监测): who visits, calls or staffs a site and
takes their reports, and who starts monitoring or puts a resident on the visit list."""

OP = (System.OPERATOR,)
FEEDS = (System.FEED, System.OPERATOR)
AUTO = (System.AUTOMATION,)

AUTHORITY: Mapping[str, Rule] = {
    # the tree
    "establish_city": rule(SHAPERS, at(Of.CITY), systems=OP),
    "create_node": rule(SHAPERS, at(Of.NODE, "parent_code"), systems=OP),
    "create_nodes": rule(SHAPERS, at(Of.NODE, "parent_code"), systems=OP),
    "rename_node": rule(SHAPERS, at(Of.NODE, "code"), systems=OP),
    "move_node": rule(SHAPERS, at(Of.NODE, "code"), at(Of.NODE, "new_parent_code"),
                      systems=OP),
    "merge_micro_grids": rule(SHAPERS, at(Of.NODE, "codes"), systems=OP),
    "split_micro_grid": rule(SHAPERS, at(Of.NODE, "code"), systems=OP),
    "retire_node": rule(SHAPERS, at(Of.NODE, "code"), systems=OP),
    "draw_boundaries": rule(SHAPERS, at(Of.FEATURES, "features"), systems=OP),
    # the register
    "register_building": rule(REGISTRARS, at(Of.NODE, "community"), systems=OP),
    "register_buildings": rule(REGISTRARS, at(Of.NODE, "community"), systems=OP),
    "register_household": rule(REGISTRARS, at(Of.NODE, "micro_grid"), systems=OP),
    "register_households": rule(REGISTRARS, at(Of.ROWS, "rows"), systems=OP),
    "register_pushed_household": rule(PUSHERS, at(Of.NODE, "micro_grid"), systems=OP),
    "move_household": rule(REGISTRARS, at(Of.HOUSEHOLD, "hid"), at(Of.NODE, "micro_grid"),
                           systems=OP),
    "add_member": rule(REGISTRARS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "remove_member": rule(REGISTRARS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "mark_vulnerability": rule(MARKERS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "erase_resident": rule(ERASERS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "record_test": rule(TESTERS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "adopt_policy": rule(ADOPTERS, at(Of.CITY), systems=OP),
    # a resident's status: decisions a staff member answers for
    # AUTOMATION: the findings follow-up of a symptom a resident reported themself (a chat
    # check-in no staff member recorded); only to symptomatic (``status.check_health_change``)
    "change_health": rule(HEALTH_REPORTERS, at(Of.HOUSEHOLD, "hid"), systems=AUTO),
    # AUTOMATION: the findings follow-up of an arrival a resident reported themself (a chat
    # check-in no staff member recorded): only an arrival's tag and home observation
    # (``household.tag``, ``status.check_measure_change``)
    "change_measure": rule(MEASURERS, at(Of.HOUSEHOLD, "hid"), systems=AUTO),
    "tag_resident": rule(TAGGERS, at(Of.HOUSEHOLD, "hid"), systems=AUTO),
    "untag_resident": rule(UNTAGGERS, at(Of.HOUSEHOLD, "hid")),
    # staff
    "enrol_staff": rule(ENROLLERS, at(Of.NODE, "jurisdiction"), systems=OP),
    "enrol_staff_many": rule(ENROLLERS, at(Of.STAFF_ROWS, "rows"), systems=OP),
    "assign_responsible_worker": rule(ENROLLERS, at(Of.NODE, "micro_grid"), systems=OP),
    "form_squad": rule(ENROLLERS, at(Of.NODE, "zone"), systems=OP),
    "form_squads": rule(ENROLLERS, at(Of.NODE, "squads"), systems=OP),
    "assign_responsible_workers": rule(ENROLLERS, at(Of.NODE, "assignments"), systems=OP),
    "hand_over_micro_grid": rule(ENROLLERS, at(Of.NODE, "micro_grid"), systems=OP),
    "take_off_squad": rule(ENROLLERS, at(Of.NODE, "zone"), systems=OP),
    "move_squad_member": rule(ENROLLERS, at(Of.NODE, "from_zone"), at(Of.NODE, "zone"),
                              systems=OP),
    "assign_scope": rule(DISPATCHERS, at(Of.NODE, "scope"), systems=OP),
    "reassign_work_of": rule(DISPATCHERS, at(Of.STAFF, "sid"), at(Of.NODE, "scope"),
                             systems=OP),
    "set_staff_availability": rule(DISPATCHERS, at(Of.STAFF, "sid"), systems=OP, own="sid"),
    "deactivate_staff": rule(ENROLLERS, at(Of.STAFF, "sid"), systems=OP),
    "reactivate_staff": rule(ENROLLERS, at(Of.STAFF, "sid"), systems=OP),
    "change_staff_jurisdiction": rule(ENROLLERS, at(Of.STAFF, "sid"),
                                      at(Of.NODE, "jurisdiction"), systems=OP),
    "erase_staff_member": rule(ERASERS, at(Of.STAFF, "sid"), systems=OP),
    # sweeps
    "launch_campaign": rule(ORGANISERS, at(Of.NODE, "scope"), systems=OP),
    "close_campaign": rule(ORGANISERS, at(Of.CAMPAIGN, "cid"), systems=OP),
    # FEED: a micro-grid chat group's bot (or its export) recording a resident's own
    # check-in (群内自报) as a chat visit; nobody of the staff saw the household
    "record_visit": rule(VISITORS, at(Of.HOUSEHOLD, "hid"), systems=(System.FEED, *OP)),
    # a chat message the intake could not record: held for the micro-grid's worker or set aside
    "take_chat_message": rule(VISITORS, at(Of.NODE, "micro_grid"),
                              systems=(System.FEED, *OP)),
    # the micro-grid's worker clears a held message: recorded by hand for a household, or
    # dismissed; no system actor (someone who read it answers for it)
    # locations (位置): who registers a thing locates it, where it is
    "locate_building": rule(REGISTRARS, at(Of.NODE, "community"), systems=OP),
    "locate_household": rule(REGISTRARS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "locate_camera": rule(POLICE_AND_OFFICIALS, at(Of.CAMERA, "camera_id"), systems=OP),
    "locate_checkpoint": rule(POLICE_AND_OFFICIALS, at(Of.CHECKPOINT, "checkpoint_id"),
                              systems=OP),
    "locate_quarantine_site": rule(OFFICIALS, at(Of.QUARANTINE_SITE, "site_code"),
                                   systems=OP, level=Level.STREET),
    "locate_sampling_site": rule(TESTING_LAUNCHERS, at(Of.TESTING, "testing_id"), systems=OP),
    "locate_enterprise": rule(ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise"), systems=OP),
    "resolve_chat_message": rule(CHAT_REVIEWERS, at(Of.NODE, "micro_grid"),
                                 at(Of.HOUSEHOLD, "household")),
    "record_visits": rule(VISITORS, at(Of.VISIT_ROWS, "rows"), systems=OP),
    "process_findings": rule(ORGANISERS, systems=(System.OPERATOR, System.AUTOMATION)),
    # referrals and quarantine sites
    "register_quarantine_site": rule(OFFICIALS, at(Of.NODE, "node_code"), systems=OP),
    "open_referral": rule(REFERRERS, at(Of.HOUSEHOLD, "hid"), systems=AUTO),
    "accept_referral": rule(TRANSFER, at(Of.REFERRAL, "referral_id")),
    "dispatch_transport": rule(TRANSFER, at(Of.REFERRAL, "referral_id")),
    "record_persuasion": rule(TRANSFER, at(Of.REFERRAL, "referral_id")),
    "admit": rule(TRANSFER, at(Of.REFERRAL, "referral_id")),
    "discharge": rule(TRANSFER, at(Of.REFERRAL, "referral_id")),
    "close_referral": rule(TRANSFER, at(Of.REFERRAL, "referral_id")),
    "cancel_referral": rule(TRANSFER, at(Of.REFERRAL, "referral_id"), systems=AUTO),
    "_escalate": rule(frozenset(), systems=AUTO),
    # contact tracing (流调): decisions a staff member answers for
    "open_case": rule(TRACERS, at(Of.NODE, "scope"), at(Of.HOUSEHOLD, "hid"),
                      at(Of.CASE, "source_case")),
    "record_exposure": rule(TRACERS, at(Of.CASE, "case_id"), at(Of.HOUSEHOLD, "hid")),
    "match_contact": rule(TRACERS, at(Of.CASE, "case_id"), at(Of.HOUSEHOLD, "hid")),
    "confirm_match": rule(TRACERS, at(Of.CASE, "case_id")),
    "reject_match": rule(TRACERS, at(Of.CASE, "case_id")),
    "confirm_case": rule(DIAGNOSERS, at(Of.CASE, "case_id")),
    "rule_out_case": rule(DIAGNOSERS, at(Of.CASE, "case_id")),
    # mass testing (全员核酸检测)
    "launch_testing_campaign": rule(TESTING_LAUNCHERS, at(Of.NODE, "scope")),
    "record_samples": rule(SAMPLERS, at(Of.TESTING, "testing_id")),
    "seal_tube": rule(SAMPLERS, at(Of.TUBE, "tube_code")),
    "record_tube_result": rule(LAB_REPORTERS, at(Of.TUBE, "tube_code")),
    # devices, travel and risk areas
    "register_camera": rule(POLICE_AND_OFFICIALS, at(Of.NODE, "grid_code"), systems=OP),
    "register_checkpoint": rule(POLICE_AND_OFFICIALS, at(Of.NODE, "grid_code"), systems=OP),
    "record_camera_detection": rule(POLICE_AND_OFFICIALS | {Role.DUTY_LEAD, Role.GRID_WORKER},
                                    at(Of.CAMERA, "camera_id"), systems=FEEDS),
    "record_vehicle_pass": rule(ALL_STAFF, at(Of.CHECKPOINT, "checkpoint_id"), systems=FEEDS),
    "count_vehicle_passes": rule(frozenset(), systems=FEEDS),
    "raise_vehicle_alert": rule(frozenset(), systems=FEEDS),
    "raise_vehicle_alerts": rule(frozenset(), systems=FEEDS),
    "record_vehicle_passes": rule(frozenset(), systems=FEEDS),
    "acknowledge_alert": rule(ALERT_HANDLERS, at(Of.ALERT, "alert_id")),
    "resolve_alert": rule(ALERT_HANDLERS, at(Of.ALERT, "alert_id")),
    "_escalate_alert": rule(frozenset(), systems=AUTO),
    "record_travel": rule(POLICE_AND_OFFICIALS, systems=FEEDS),
    "declare_risk_area": rule(OFFICIALS, at(Of.NODE, "scope"), systems=FEEDS,
                              level=Level.COMMUNITY),
    "lift_risk_area": rule(OFFICIALS, at(Of.DECLARATION, "declaration_id"), systems=FEEDS,
                           level=Level.COMMUNITY),
    # risk zoning around a case (三区划分): an official of the community's street or above
    # decides; the clock lifts quiet zones by the rule
    "draw_risk_zones": rule(ZONERS, at(Of.NODE, "community_code"), level=Level.STREET),
    "apply_zone_measures": rule(ZONERS, at(Of.ZONING, "zoning_id"), level=Level.STREET),
    "launch_zone_sweep": rule(ZONERS, at(Of.ZONING, "zoning_id"), level=Level.STREET),
    "lift_risk_zones": rule(ZONERS, at(Of.ZONING, "zoning_id"), level=Level.STREET),
    "_tick_risk_zoning": rule(frozenset(), systems=AUTO),
    # supplies to sealed doors
    "seal_scope": rule(POLICE_AND_OFFICIALS | {Role.DUTY_LEAD}, at(Of.NODE, "code"),
                       systems=OP),
    "place_order": rule(ORDER_TAKERS, at(Of.HOUSEHOLD, "household"), systems=OP),
    "batch_purchase": rule(frozenset({Role.DUTY_LEAD}), at(Of.NODE, "community")),
    "dispatch_deliveries": rule(SUPPLIERS, at(Of.NODE, "scope"), systems=OP),
    "redeliver": rule(SUPPLIERS, at(Of.DELIVERY, "delivery"), systems=OP),
    "confirm_delivery": rule(COURIERS, at(Of.DELIVERY, "delivery")),
    "report_failed_delivery": rule(COURIERS, at(Of.DELIVERY, "delivery")),
    "donate_to_scope": rule(SUPPLIERS, at(Of.NODE, "scope"), systems=OP),
    "supply_enterprise": rule(SUPPLIERS | ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise"),
                              systems=OP),
    # enterprises resuming work
    "register_enterprise": rule(ENTERPRISE_STAFF, at(Of.NODE, "location"), systems=OP),
    "assign_specialist": rule(OFFICIALS, at(Of.ENTERPRISE, "enterprise"), systems=OP),
    "file_resumption": rule(ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise"), systems=OP),
    "declare_employee_health": rule(ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise"),
                                    systems=OP),
    "review_resumption": rule(ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise")),
    "inspect_enterprise": rule(ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise")),
    "close_rectification": rule(ENTERPRISE_STAFF, at(Of.ENTERPRISE, "enterprise")),
    # residents' requests
    "_file_request": rule(REQUEST_HANDLERS, at(Of.NODE, "grid"),
                          systems=(System.PUBLIC, System.OPERATOR)),
    "classify_request": rule(REQUEST_HANDLERS, at(Of.REQUEST, "request"), systems=OP),
    "assign_request": rule(DISPATCHERS, at(Of.REQUEST, "request"), systems=OP),
    "resolve_request": rule(REQUEST_HANDLERS, at(Of.REQUEST, "request")),
    "rate_request": rule(frozenset(), systems=(System.PUBLIC, System.OPERATOR)),
    "reopen_request": rule(frozenset(), systems=(System.PUBLIC, System.OPERATOR)),
    "_escalate_request_if_due": rule(frozenset(), systems=AUTO),
    # assistance lists (协查) routed to the grid
    "receive_assistance_list": rule(ASSISTANCE_RECEIVERS, at(Of.NODE, "scope"), systems=OP,
                                    level=Level.DISTRICT),
    "report_assistance_item": rule(ASSISTANCE_REPORTERS, at(Of.ASSISTANCE, "list_id")),
    "forward_assistance_item": rule(ASSISTANCE_REPORTERS, at(Of.ASSISTANCE, "list_id")),
    "_escalate_assistance_if_due": rule(frozenset(), systems=AUTO),
    # health monitoring (健康监测) during a measure; FEED: a resident's report through the
    # chat group's bot (OPERATOR: the group's export loaded at the console,
    # ``gridcore checkin``); PUBLIC: through the residents' app
    "start_monitoring": rule(MONITORS, at(Of.HOUSEHOLD, "hid"), systems=AUTO),
    "assist_monitored_resident": rule(MONITORS, at(Of.HOUSEHOLD, "hid")),
    "record_monitoring_report": rule(MONITORS, at(Of.HOUSEHOLD, "hid"),
                                     systems=(System.FEED, System.PUBLIC, System.OPERATOR)),
    "process_monitoring": rule(ORGANISERS, systems=(System.OPERATOR, System.AUTOMATION)),
    "_follow_measure": rule(frozenset(), systems=AUTO),
    "_tick_monitoring_of": rule(frozenset(), systems=AUTO),
    # notifications (通知与宣传): notices, opt-outs, call lists; the notifier and the sender
    "post_notice": rule(OFFICIALS, at(Of.NODE, "scope"), systems=OP),
    "set_opt_out": rule(REGISTRARS, at(Of.HOUSEHOLD, "hid"), systems=OP),
    "record_call": rule(FIELD_ROLES | OFFICIALS, at(Of.HOUSEHOLD, "hid")),
    "notify_of": rule(frozenset(), systems=AUTO),
    "attempt_message": rule(frozenset(), systems=AUTO),
    "record_sent": rule(frozenset(), systems=AUTO),
    "record_send_failure": rule(frozenset(), systems=AUTO),
    "record_receipt": rule(frozenset(), systems=(System.FEED,)),
    # daily reports up the levels (日报): the node's officials submit and correct it; the
    # level above approves or returns it; the clock escalates those overdue
    "submit_report": rule(REPORTERS, at(Of.NODE, "code")),
    "correct_report": rule(REPORTERS, at(Of.NODE, "code")),
    "return_report": rule(REPORT_REVIEWERS, at(Of.PARENT, "code"), level=Level.STREET),
    "approve_report": rule(REPORT_REVIEWERS, at(Of.PARENT, "code"), level=Level.STREET),
    "_tick_reports": rule(frozenset(), systems=AUTO),
    "_open_ended_periods": rule(frozenset(), systems=AUTO),
}
"""command name -> who may give it and where. A test fails for a command missing here
(tests/domain/test_authority.py), and another gives every command with every role inside
and outside the giver's jurisdiction and with every system actor."""


class NotAuthorised(NotPermitted):
    """The acting party may not give the command (``AUTHORITY``), or not there."""


def _names(rule: Rule) -> str:
    who = sorted(r.label for r in rule.roles) + sorted(s.label for s in rule.systems)
    return "、".join(who) or "nobody"


def check_authority(command: str, by: Actor, role: Role | None = None,
                    level: Level | None = None, outside: Sequence[str] = (),
                    own: bool = False) -> None:
    """Raise ``NotAuthorised`` when ``by`` may not give ``command``: a system actor the rule
    does not name; a staff member (of ``role``, whose jurisdiction is at ``level``) whose
    role the rule does not name (unless the command is about themself, ``own``) or whose
    level is below the rule's; or places it acts at (``outside``) outside their
    jurisdiction."""
    rule = AUTHORITY.get(command)
    doing = command.strip("_").replace("_", " ")
    if rule is None:
        raise NotAuthorised(f"Nobody may {doing}: the command names no authority.",
                            "Add it to gridcore.authority.AUTHORITY.")
    if isinstance(by, System):
        if by not in rule.systems:
            raise NotAuthorised(f"{by.label} may not {doing}.",
                                f"A staff member must give it: one of {_names(rule)}.")
        return
    assert role is not None
    if role not in rule.roles and not own:
        raise NotAuthorised(f"A {role.value} may not {doing}.", f"Ask one of: {_names(rule)}.")
    if rule.level is not None and level is not None and level > rule.level:
        raise NotAuthorised(f"A {role.value} of a {level.label} may not {doing}.",
                            f"Ask a {role.value} of a {rule.level.label} or above.")
    if outside:
        raise NotAuthorised(f"{outside[0]} lies outside your jurisdiction: you may not "
                            f"{doing} there.",
                            "Ask a staff member whose jurisdiction contains it.")
