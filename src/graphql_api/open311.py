"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) beside the GraphQL API: the
city's message board, a 数字城管 system or any Open311 client files residents' requests (群众诉求)
and follows them.

Routes (``{fmt}`` is ``json``, or ``xml`` for the same content as XML):

- ``GET /open311/v2/services.{fmt}``: one service per request category
  (``gridcore.requests.Category``): ``service_code`` its value, ``service_name`` its Chinese
  label, ``metadata`` true (every service takes the ``grade`` attribute).
- ``GET /open311/v2/services/{service_code}.{fmt}``: the service definition: one optional
  attribute, ``grade`` (``normal`` or ``urgent``, the request's 紧急程度).
- ``POST /open311/v2/requests.{fmt}`` (form-encoded): files a request with channel
  ``open311`` (系统对接). Needs ``api_key`` (the client system's; unknown: 403),
  ``service_code``, ``description`` (what is asked, 2-2000 characters), ``phone`` (the resident's:
  an anonymous request needs a contact the community calls back, as every channel does) and a
  place: ``address_id`` (the code of the micro-grid or community concerned) or ``lat`` and
  ``long`` (WGS-84) inside a micro-grid's boundary; ``address_string`` is kept as the address
  (else the point). ``media_url`` is appended to the text; ``attribute[grade]`` grades it.
  ``first_name``, ``last_name``, ``email`` and ``device_id`` are not kept (the request holds no
  name: the phone is the contact); ``account_id`` is echoed. Answers
  ``[{"service_request_id", "token", "service_notice", "account_id"}]``: the id is the
  request's public number, the token its secret reference (the resident's, to read the reply
  and rate it; shown only to the filing and its retries).
- ``GET /open311/v2/requests.{fmt}``: ``service_request_id`` (comma-separated numbers; then the
  other filters are ignored), ``service_code``, ``start_date``/``end_date`` (W3C date-times
  with their offset, at most 90 days apart; default the last 90 days) and ``status``
  (``open``, ``closed``); newest first, at most 1,000 (from the read models: a filing shows
  once they caught up).
- ``GET /open311/v2/requests/{service_request_id}.{fmt}``: one request (from the event store).
- ``GET /open311/v2/tokens/{token}.{fmt}``: the ``service_request_id`` of a token.

The same submission is the same request: a client system's POST is filed under a client id
made of the system's name and a digest of the submission's fields (all but ``api_key``), or of
its ``Idempotency-Key`` header when it sends one; a repeated POST answers the first filing
(with its token), and a different submission under a used ``Idempotency-Key`` is refused (400).
The client id, so the system's name, is recorded with the request (``Filed.client_id``).

What a GET shows (GeoReport's GET needs no key): the status (``open`` while awaiting action,
``closed`` once answered or rated), the category, the owning level's name
(``agency_responsible``), the times and the deadline, and as ``address`` the name of the
community that owns it (``address_id`` its code). Never the requester's phone, the address
or point given, nor what was asked or answered: the text and the reply are personal
(``Request.text``/``Request.reply`` in ``graphql_api.privacy``), so ``status_notes`` is a
generic note of the status, unless the request's token is given (``?token=...``), which shows
the reply, the description and the address given, as ``myRequest`` does in GraphQL.

Configuration: ``GRIDCORE_OPEN311_KEYS`` (a JSON object ``{"<api key>": "<client system>"}``)
or ``GRIDCORE_OPEN311_KEYS_FILE`` (a file holding it); ``GRIDCORE_OPEN311_JURISDICTION`` (the
``jurisdiction_id``; default: the code of the city, when the tree has one city). A
``jurisdiction_id`` given and not ours is answered 404. Errors are
``[{"code": <HTTP status>, "description": "..."}]`` with that HTTP status.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gridcore import errors
from gridcore.authority import System
from gridcore.geo import Point
from gridcore.grid import Level
from gridcore.notification import BEIJING
from gridcore.requests import AWAITING, Category, Grade, ResidentRequest, request_id
from projections import grid_rollup, requests_board

PREFIX = "/open311/v2"
MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
GROUP = "群众诉求 residents' requests"
FORMATS = ("json", "xml")
_DESCRIPTIONS = {
    Category.SUPPLIES: "生活物资、买药、送菜 supplies, medicine, groceries",
    Category.MEDICAL: "就医、用药、透析、孕产 seeing a doctor, medication, dialysis, birth",
    Category.QUARANTINE: "隔离、健康监测、转运 quarantine, health monitoring, transfer",
    Category.COMPLAINT: "对工作的投诉 a complaint about the work",
    Category.INFORMATION: "政策咨询 a question about the rules",
    Category.OTHER: "其他诉求 anything else",
}
_GENERIC_NOTES = {
    "open": "待办理 awaiting action: the community (or the level above it) handles it.",
    "closed": "已答复 answered: the reply is shown to the requester (with the token).",
}


# ---- configuration --------------------------------------------------------------------------

@dataclass(frozen=True)
class Open311Settings:
    keys: Mapping[str, str] = field(default_factory=dict)
    """API key -> the client system's name."""
    jurisdiction: str | None = None
    """The ``jurisdiction_id`` (None: the tree's one city)."""


def open311_settings(env: Mapping[str, str] | None = None) -> Open311Settings:
    """The settings from ``GRIDCORE_OPEN311_KEYS`` (or ``..._KEYS_FILE``) and
    ``GRIDCORE_OPEN311_JURISDICTION``; a malformed key table stops the server with a message."""
    env = os.environ if env is None else env
    raw = env.get("GRIDCORE_OPEN311_KEYS")
    where = "GRIDCORE_OPEN311_KEYS"
    if raw is None and env.get("GRIDCORE_OPEN311_KEYS_FILE"):
        where = env["GRIDCORE_OPEN311_KEYS_FILE"]
        raw = Path(where).read_text(encoding="utf-8")
    keys: Any = {}
    if raw is not None and raw.strip():
        try:
            keys = json.loads(raw)
        except ValueError:
            keys = None
    if not isinstance(keys, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in keys.items()):
        raise ValueError(f"{where} must be a JSON object of API keys to client system names, "
                         'e.g. {"k3y...": "市民留言板 message board"}.')
    return Open311Settings(keys=dict(keys),
                           jurisdiction=env.get("GRIDCORE_OPEN311_JURISDICTION") or None)


# ---- answers --------------------------------------------------------------------------------

class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


_ITEM_TAGS = {"services": "service", "service_requests": "request", "attributes": "attribute",
              "values": "value", "errors": "error"}


def _xml_value(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, list):
        item = _ITEM_TAGS.get(tag, "item")
        for v in value:
            _xml_value(node, item, v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(node, k, v)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def to_xml(root: str, content: Any) -> bytes:
    """GeoReport's XML: a list under ``root`` with one element per item (``services`` ->
    ``service``, ``service_requests`` -> ``request``, ``errors`` -> ``error``), a dict's keys
    as elements, null as an empty element."""
    top = ET.Element(root)
    if isinstance(content, list):
        for v in content:
            _xml_value(top, _ITEM_TAGS.get(root, "item"), v)
    else:
        for k, v in content.items():
            _xml_value(top, k, v)
    return ('<?xml version="1.0" encoding="utf-8"?>'
            + ET.tostring(top, encoding="unicode")).encode("utf-8")


def answer(fmt: str, root: str, content: Any, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, content), status_code=status,
                        media_type="text/xml; charset=utf-8")
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def error(fmt: str, status: int, description: str) -> Response:
    return answer(fmt, "errors", [{"code": status, "description": description}], status)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(BEIJING).isoformat(timespec="seconds")


def _w3c(raw: str, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise Open311Error(400, f"{what} {raw[:40]!r} is not a W3C date-time with its offset: "
                                "write e.g. 2026-12-01T00:00:00+08:00 or 2026-12-01T00:00:00Z.")
    return when


def services() -> list[dict[str, Any]]:
    return [{"service_code": c.value, "service_name": c.label.split(" ", 1)[0],
             "description": f"{c.label}: {_DESCRIPTIONS[c]}", "metadata": True,
             "type": "realtime", "keywords": ",".join([*c.label.split(" ", 1), c.value]),
             "group": GROUP} for c in Category]


def definition(code: str) -> dict[str, Any]:
    return {"service_code": code, "attributes": [{
        "variable": True, "code": "grade", "datatype": "singlevaluelist", "required": False,
        "datatype_description": "normal (一般, answered within 24 hours by default) or urgent "
                                "(紧急, within 2 hours)",
        "order": 1, "description": "紧急程度 how urgent (default normal)",
        "values": [{"key": g.value, "name": g.label} for g in Grade]}]}


def _category(code: str, status: int) -> Category:
    try:
        return Category(code)
    except ValueError:
        raise Open311Error(status, f"service_code {code[:40]!r} is not a service here: use one "
                                   f"of {', '.join(c.value for c in Category)} "
                                   f"(GET {PREFIX}/services.json).") from None


# ---- the endpoint ---------------------------------------------------------------------------

class Open311:
    def __init__(self, app: Any, runner: Any, settings: Open311Settings) -> None:
        self.app, self.runner, self.settings = app, runner, settings

    # jurisdiction and keys

    def jurisdiction(self) -> str:
        if self.settings.jurisdiction is not None:
            return self.settings.jurisdiction
        cities = grid_rollup.cities(self.runner.views)
        if len(cities) != 1:
            raise Open311Error(404, "This endpoint's jurisdiction is not set: the operator sets "
                                    "GRIDCORE_OPEN311_JURISDICTION to the city's code.")
        return str(cities[0])

    def check_jurisdiction(self, given: str | None) -> str:
        ours = self.jurisdiction()
        if given and given != ours:
            raise Open311Error(404, f"jurisdiction_id {given[:40]!r} is not served here: this "
                                    f"endpoint serves {ours} (or leave jurisdiction_id out).")
        return ours

    def client(self, key: str | None) -> str:
        if not key:
            raise Open311Error(403, "An api_key is needed to file a request: the operator "
                                    "issues one per client system.")
        name = self.settings.keys.get(key)
        if name is None:
            raise Open311Error(403, "The api_key is not valid: ask the operator for your "
                                    "client system's key.")
        return name

    # filing

    def file(self, form: Mapping[str, str], idempotency_key: str | None) -> dict[str, Any]:
        city = self.check_jurisdiction(form.get("jurisdiction_id") or None)
        client = self.client(form.get("api_key"))
        code = form.get("service_code")
        if not code:
            raise Open311Error(400, "service_code is missing: give one of "
                                    f"{', '.join(c.value for c in Category)}.")
        category = _category(code, 400)
        grade = form.get("attribute[grade]") or Grade.NORMAL.value
        if grade not in {g.value for g in Grade}:
            raise Open311Error(400, f"attribute[grade] {grade[:20]!r} is not a grade: give "
                                    "normal or urgent.")
        text = form.get("description") or ""
        if not text.strip():
            raise Open311Error(400, "description is missing: write what is asked "
                                    "(2-2000 characters).")
        if form.get("media_url"):
            text = f"{text}\n附件 media: {form['media_url']}"
        phone = form.get("phone")
        if not phone:
            raise Open311Error(400, "phone is missing: a request needs the resident's phone, "
                                    "which the community calls back (it is never shown on GET).")
        grid, address = self.place(form, city)
        body = sorted((k, v) for k, v in form.items() if k != "api_key")
        basis = ("header", idempotency_key) if idempotency_key else ("body", body)
        digest = hashlib.sha256(orjson.dumps([client, *basis])).hexdigest()[:32]
        filing = self.app.file_request(
            "open311", category.value, grade, text, phone=phone, address=address, grid=grid,
            by=System.OPERATOR, client_id=f"open311:{client[:80]}:{digest}")
        r = self.app.request(filing.request_id)
        owner = self.app.node(r.community)
        return {"service_request_id": r.number, "token": filing.reference,
                "service_notice": f"已受理 filed: {owner.name} handles it; answered by "
                                  f"{_iso(r.deadline)} (紧急程度 {r.grade.label}).",
                "account_id": form.get("account_id") or None}

    def place(self, form: Mapping[str, str], city: str) -> tuple[str, str]:
        """The micro-grid or community concerned and the address kept (sealed)."""
        given = (form.get("address_string") or "").strip()
        address_id = form.get("address_id")
        lat, lng = form.get("lat"), form.get("long")
        if address_id:
            try:
                node = self.app.node(address_id)
            except errors.NotFound:
                node = None
            if node is None or node.level not in (Level.MICRO_GRID, Level.COMMUNITY) \
                    or city not in self.app.ancestry(address_id):
                raise Open311Error(400, f"address_id {address_id[:40]!r} is not a micro-grid "
                                        f"or community (社区) of {city}: give its grid code, or "
                                        "lat and long.")
            return address_id, given or f"address_id {address_id}"
        if lat and lng:
            try:
                point = Point.given(float(lng), float(lat))
            except (ValueError, errors.InvalidInput):
                raise Open311Error(400, f"lat {lat[:20]!r} and long {lng[:20]!r} are not a "
                                        "WGS-84 point: give decimal degrees.") from None
            grid = self.app.propose_micro_grid(point, city)
            if grid is None:
                raise Open311Error(400, f"The point ({point.lat}, {point.lng}) lies in no "
                                        f"micro-grid of {city}: give address_id, the code of "
                                        "the micro-grid or community concerned.")
            where = f"{point.lat},{point.lng} (WGS-84)"
            return grid, f"{given} ({where})" if given else where
        raise Open311Error(400, "The place is missing: give lat and long (WGS-84) inside the "
                                "city's micro-grids, or address_id (the micro-grid or community "
                                "code); address_string alone is not located.")

    # reading

    def shown(self, r: ResidentRequest, token: str | None) -> dict[str, Any]:
        mine = False
        if token:
            try:
                mine = request_id(token) == r.id
            except errors.InvalidInput:
                mine = False
            if not mine:
                raise Open311Error(403, "The token does not belong to this request: give the "
                                        "token its filing answered, or none.")
        status = "open" if r.status in AWAITING else "closed"
        note = _GENERIC_NOTES[status]
        if mine and r.reply is not None and not r.reply.erased and r.reply.text:
            note = r.reply.text
        community = self.app.node(r.community)
        details = r.details if mine and not r.details.erased else None
        return {
            "service_request_id": r.number,
            "status": status,
            "status_notes": note,
            "service_name": r.category.label.split(" ", 1)[0],
            "service_code": r.category.value,
            "description": details.text if details else None,
            "agency_responsible": self.app.node(r.owner_code).name,
            "service_notice": r.status.label,
            "requested_datetime": _iso(r.created_on),
            "updated_datetime": _iso(r.modified_on),
            "expected_datetime": _iso(r.deadline) if status == "open" else None,
            "address": details.address if details and details.address else community.name,
            "address_id": r.community,
            "zipcode": None,
            "lat": None,
            "long": None,
            "media_url": None,
        }

    def one(self, number: str, token: str | None) -> dict[str, Any]:
        return self.shown(self.app.request_by_number(number), token)

    def many(self, q: Mapping[str, str], now: datetime) -> list[dict[str, Any]]:
        city = self.check_jurisdiction(q.get("jurisdiction_id") or None)
        if q.get("service_request_id"):
            numbers = [n.strip() for n in q["service_request_id"].split(",") if n.strip()]
            if len(numbers) > MAX_RESULTS:
                raise Open311Error(400, f"At most {MAX_RESULTS} service_request_id at once.")
            found = []
            for n in numbers:
                try:
                    found.append(self.one(n, None))
                except errors.NotFound:
                    continue
            return found
        codes = {_category(c.strip(), 400) for c in (q.get("service_code") or "").split(",")
                 if c.strip()}
        statuses = {s.strip() for s in (q.get("status") or "").split(",") if s.strip()}
        if not statuses <= {"open", "closed"}:
            raise Open311Error(400, "status is open, closed or both (comma-separated).")
        end = _w3c(q["end_date"], "end_date") if q.get("end_date") else None
        start = _w3c(q["start_date"], "start_date") if q.get("start_date") else None
        end = end or (start + WINDOW if start else now)
        start = start or end - WINDOW
        if not timedelta(0) <= end - start <= WINDOW:
            raise Open311Error(400, "start_date must come before end_date, at most 90 days "
                                    "apart.")
        rows = [row for row in requests_board.board(self.runner.views, scope_code=city,
                                                    awaiting_only=False)
                if start <= row.filed_at <= end and (not codes or row.category in codes)
                and (not statuses or ("open" if row.status in AWAITING else "closed")
                     in statuses)]
        rows.sort(key=lambda row: (row.filed_at, row.number), reverse=True)
        return [self.shown(self.app.request(row.request_id), None)
                for row in rows[:MAX_RESULTS]]

    def token(self, token: str) -> dict[str, Any]:
        self.check_jurisdiction(None)
        return {"token": token,
                "service_request_id": self.app.request_by_reference(token).number}


def _status_of(e: errors.GridcoreError) -> int:
    if isinstance(e, errors.NotFound):
        return 404
    if isinstance(e, errors.NotPermitted):
        return 403
    return 400


def open311_routes(app: Any, runner: Any,
                   settings: Open311Settings | None = None) -> list[BaseRoute]:
    """The GeoReport v2 routes under ``/open311/v2`` (see the module's text)."""
    o = Open311(app, runner, settings or open311_settings())

    def handler(root: str, work: Callable[[Request], Any],
                one: bool = False) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            fmt = str(request.path_params.get("fmt", ""))
            if fmt not in FORMATS:
                return error("json", 404, f"Answers come as .json or .xml, not {fmt[:10]!r}: "
                                          f"e.g. {PREFIX}/services.json.")
            try:
                content = await work(request)
            except Open311Error as e:
                return error(fmt, e.status, e.description)
            except errors.GridcoreError as e:
                return error(fmt, _status_of(e), str(e))
            return answer(fmt, root, [content] if one else content)
        return handle

    def query(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    def _services(q: Mapping[str, str]) -> list[dict[str, Any]]:
        o.check_jurisdiction(q.get("jurisdiction_id"))
        return services()

    async def list_services(request: Request) -> Any:
        return await asyncio.to_thread(_services, query(request))

    async def service(request: Request) -> Any:
        await asyncio.to_thread(o.check_jurisdiction, query(request).get("jurisdiction_id"))
        return definition(_category(str(request.path_params["code"]), 404).value)

    async def post(request: Request) -> Any:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise Open311Error(400, "Send the request form-encoded "
                                    "(Content-Type: application/x-www-form-urlencoded).")
        try:
            pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True,
                              max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            raise Open311Error(400, "The form could not be read: send at most 100 fields, "
                                    "form-encoded UTF-8.") from None
        return await asyncio.to_thread(o.file, dict(pairs),
                                       request.headers.get("idempotency-key"))

    async def get_requests(request: Request) -> Any:
        return await asyncio.to_thread(o.many, query(request), app.clock())

    async def get_request(request: Request) -> Any:
        q = query(request)

        def work() -> dict[str, Any]:
            o.check_jurisdiction(q.get("jurisdiction_id"))
            return o.one(str(request.path_params["rid"]), q.get("token"))
        return await asyncio.to_thread(work)

    async def get_token(request: Request) -> Any:
        return await asyncio.to_thread(o.token, str(request.path_params["token"]))

    return [
        Route(f"{PREFIX}/services.{{fmt}}", handler("services", list_services),
              methods=["GET"]),
        Route(f"{PREFIX}/services/{{code}}.{{fmt}}", handler("service_definition", service),
              methods=["GET"]),
        Route(f"{PREFIX}/requests.{{fmt}}", handler("service_requests", post, one=True),
              methods=["POST"]),
        Route(f"{PREFIX}/requests.{{fmt}}", handler("service_requests", get_requests),
              methods=["GET"]),
        Route(f"{PREFIX}/requests/{{rid}}.{{fmt}}",
              handler("service_requests", get_request, one=True), methods=["GET"]),
        Route(f"{PREFIX}/tokens/{{token}}.{{fmt}}",
              handler("service_requests", get_token, one=True), methods=["GET"]),
    ]
