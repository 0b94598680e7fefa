"""A community's public page (社区公开页, residents' right to know 知情权): ``GET /public/{code}``
(HTML) and ``GET /public/{code}.json`` (the same content as JSON).

No token is needed and a token given is ignored: the page holds only what any resident may
read. It shows the community's name and its parents' names; the notices (公告, 宣传) posted to
the community, to a node above it (street, district, city) or to a node inside it (a zone,
a micro-grid), newest first, with their time and scope, as posted (a notice naming a resident
is refused when posted: ``gridcore.notice.check_names_absent``); and the community's
statistics as the read models hold them now: households, residents, staff, residents by
health, by measure and by tag (``projections.grid_rollup``), what is open (待办:
``projections.queries.open_items``) and the coverage of its sweeps (排查:
``projections.sweep_coverage``). Counts only: never a name, phone, address, building or id of
a person or household.

A code that is unknown, or not a community's (a city, district, street or micro-grid), is
answered 404 saying which codes are accepted. Answers may be cached for a minute
(``Cache-Control: public, max-age=60``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from html import escape
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from graphql_api.limits import error_body
from gridcore import status
from gridcore.grid import Level
from gridcore.notification import BEIJING, Category
from projections import grid_rollup, public_notices, queries, sweep_coverage

PATH = "/public/{code}"
CACHE = "public, max-age=60"
MAX_NOTICES = 200
MAX_SWEEPS = 10
EXAMPLE = "420102001712"


class NotACommunity(LookupError):
    """The code has no public page: the message says which codes do."""


def _node(row: grid_rollup.NodeRow) -> dict[str, Any]:
    lv = Level(row.level)
    return {"code": row.code, "name": row.name, "level": lv.name.lower(),
            "level_label": lv.label}


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat()


def _community(views: Any, code: str) -> tuple[grid_rollup.NodeRow, list[str]]:
    """The community's row and its chain (itself, then its ancestors); ``NotACommunity``."""
    accepted = (f"A public page is kept for each community (社区): ask for /public/<community "
                f"code> (HTML) or /public/<community code>.json, e.g. /public/{EXAMPLE}.")
    row = grid_rollup.nodes(views, [code]).get(code)
    if row is None:
        raise NotACommunity(f"No grid node has the code {code!r}. {accepted}")
    chain = grid_rollup.chains(views, [code]).get(code) or [code]
    level = Level(row.level)
    if level is Level.MICRO_GRID:
        found = grid_rollup.nodes(views, chain[1:])
        community = next((found[c] for c in chain[1:] if c in found
                          and found[c].level == Level.COMMUNITY), None)
        where = (f" Its community is {community.name} ({community.code}): /public/"
                 f"{community.code}." if community is not None else "")
        raise NotACommunity(f"{code!r} is a {level.label} ({row.name}), not a community.{where} "
                            f"{accepted}")
    if level is not Level.COMMUNITY:
        raise NotACommunity(f"{code!r} is a {level.label} ({row.name}), not a community: ask "
                            f"for the page of one of its communities. {accepted}")
    if row.retired:
        raise NotACommunity(f"The community {code!r} ({row.name}) is retired (撤销) and has no "
                            f"public page. {accepted}")
    return row, chain


def public_content(views: Any, code: str, now: datetime) -> dict[str, Any]:
    """What the page of community ``code`` shows (``NotACommunity`` for another code)."""
    row, chain = _community(views, code)
    notices = public_notices.notices_reaching(views, code, MAX_NOTICES)
    named = grid_rollup.nodes(views, [*chain[1:], *(n.scope for n in notices)])
    parents = [_node(named[c]) for c in reversed(chain[1:]) if c in named]
    counts = grid_rollup.rollups(views, [code])[code]
    open_now = queries.open_items(views, [code])[code]
    sweeps = sweep_coverage.campaigns_touching(views, code, chain)[-MAX_SWEEPS:]

    def scope_of(scope: str) -> dict[str, Any]:
        found = named.get(scope)
        return _node(found) if found is not None else {
            "code": scope, "name": scope, "level": None, "level_label": None}

    def sweep(c: sweep_coverage.CampaignRow) -> dict[str, Any]:
        cov = sweep_coverage.coverage(views, c.campaign_id, code)
        return {"name": c.name, "round": c.round_no, "starts": _iso(c.starts),
                "ends": _iso(c.ends), "closed": c.closed_at is not None,
                "households": cov["households"], "covered": cov["covered"],
                "share": round(cov["share"], 4)}

    return {
        "community": _node(row),
        "parents": parents,
        "notices": [{"posted_at": _iso(n.posted_at), "scope": scope_of(n.scope),
                     "category": n.category, "category_label": Category(n.category).label,
                     "text": n.text} for n in notices],
        "statistics": {
            "as_of": _iso(now),
            "households": counts["households"],
            "residents": counts["residents"],
            "staff": counts["staff"],
            "by_health": [{"health": h.value, "label": h.label,
                           "count": counts["by_health"][h.value]} for h in status.Health],
            "by_measure": [{"measure": m.value, "label": m.label,
                            "count": counts["by_measure"][m.value]} for m in status.Measure],
            "by_tag": [{"tag": t.value, "label": t.label, "count": counts["by_tag"][t.value]}
                       for t in status.TagKind],
            "open": {"referrals": open_now.referrals, "deliveries": open_now.deliveries,
                     "requests": open_now.requests, "alerts": open_now.alerts},
            "sweeps": [sweep(c) for c in reversed(sweeps)],
        },
    }


# ---- HTML -----------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;
max-width:52rem;padding:1rem;line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:2px solid #b00;padding-bottom:.2rem}h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #888;padding:.3rem .5rem;text-align:left}td.n{text-align:right}
caption{text-align:left;font-weight:bold;padding:.3rem 0}
.notice{border-left:4px solid #b00;padding:.2rem .8rem;margin:.8rem 0;background:#f7f7f7}
.meta{color:#444;font-size:.9rem}.text{white-space:pre-wrap;margin:.3rem 0}
"""


def _local(iso: str | None) -> str:
    if iso is None:
        return ""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _rows(rows: list[tuple[str, Any]]) -> str:
    return "".join(f'<tr><th scope="row">{escape(label)}</th><td class="n">{escape(str(v))}'
                   "</td></tr>" for label, v in rows)


def _table(caption: str, rows: list[tuple[str, Any]]) -> str:
    return (f"<table><caption>{escape(caption)}</caption><thead><tr>"
            '<th scope="col">项目 item</th><th scope="col">数量 count</th></tr></thead>'
            f"<tbody>{_rows(rows)}</tbody></table>")


def render_html(content: dict[str, Any]) -> str:
    c, stats = content["community"], content["statistics"]
    trail = " › ".join(escape(f"{p['name']}") for p in content["parents"])
    title = f"{c['name']} 社区公开页 community public page"
    notices = "".join(
        f'<article class="notice"><h3>{escape(n["category_label"])} · '
        f'{escape(n["scope"]["name"])}</h3>'
        f'<p class="meta"><time datetime="{escape(n["posted_at"] or "")}">'
        f'{escape(_local(n["posted_at"]))}</time> (北京时间 Beijing time) · 范围 scope: '
        f'{escape(n["scope"]["name"])} ({escape(n["scope"]["code"])}'
        f'{", " + escape(n["scope"]["level_label"]) if n["scope"]["level_label"] else ""})'
        f'</p><p class="text">{escape(n["text"])}</p></article>'
        for n in content["notices"]) or "<p>暂无公告 No notices yet.</p>"
    open_ = stats["open"]
    sweeps = "".join(
        f'<tr><th scope="row">{escape(s["name"])} (第{s["round"]}轮 round {s["round"]})</th>'
        f'<td>{escape(_local(s["starts"]))} – {escape(_local(s["ends"]))}</td>'
        f'<td>{"已结束 closed" if s["closed"] else "进行中 in progress"}</td>'
        f'<td class="n">{s["households"]}</td><td class="n">{s["covered"]}</td>'
        f'<td class="n">{s["share"] * 100:.1f}%</td></tr>' for s in stats["sweeps"])
    sweep_table = (
        "<table><caption>排查覆盖 sweep coverage</caption><thead><tr>"
        '<th scope="col">排查 sweep</th><th scope="col">时间 time</th>'
        '<th scope="col">状态 state</th><th scope="col">户数 households</th>'
        '<th scope="col">已覆盖 covered</th><th scope="col">覆盖率 share</th></tr></thead>'
        f"<tbody>{sweeps}</tbody></table>" if sweeps
        else "<p>暂无排查 No sweeps.</p>")
    body = (
        f"<header><p>{trail}</p><h1>{escape(c['name'])}</h1>"
        f"<p>社区公开页 community public page · 社区代码 code {escape(c['code'])}</p></header>"
        "<main>"
        '<section aria-labelledby="stats"><h2 id="stats">统计 statistics</h2>'
        f"<p>截至 as of <time datetime=\"{escape(stats['as_of'] or '')}\">"
        f"{escape(_local(stats['as_of']))}</time> (北京时间 Beijing time)。仅为数量，"
        "不含任何个人信息 counts only, no personal data.</p>"
        + _table("概况 overview", [("户数 households", stats["households"]),
                                  ("居民 residents", stats["residents"]),
                                  ("工作人员 staff", stats["staff"])])
        + _table("健康状况 residents by health",
                 [(h["label"], h["count"]) for h in stats["by_health"]])
        + _table("管控措施 residents by measure",
                 [(m["label"], m["count"]) for m in stats["by_measure"]])
        + _table("标记 residents by tag", [(t["label"], t["count"]) for t in stats["by_tag"]])
        + _table("待办 open items", [("转运 referrals", open_["referrals"]),
                                     ("配送 deliveries", open_["deliveries"]),
                                     ("诉求 requests", open_["requests"]),
                                     ("告警 alerts", open_["alerts"])])
        + sweep_table + "</section>"
        '<section aria-labelledby="notices"><h2 id="notices">公告 notices</h2>'
        f"{notices}</section></main>"
        f'<footer><p>数据 data: <a href="{escape(c["code"])}.json">{escape(c["code"])}.json'
        "</a></p></footer>")
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>")


def not_found_html(message: str) -> str:
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            "<title>未找到社区 community not found</title></head><body><main>"
            "<h1>未找到社区 community not found</h1>"
            f"<p>{escape(message)}</p></main></body></html>")


# ---- the route ------------------------------------------------------------------------------

def public_routes(app: Any, runner: Any) -> list[BaseRoute]:
    """``GET /public/{code}`` and ``GET /public/{code}.json`` (one route: grid codes hold no
    dot). The ``Authorization`` header is never read."""

    async def page(request: Request) -> Response:
        raw = str(request.path_params["code"])
        as_json = raw.endswith(".json")
        code = raw.removesuffix(".json")
        headers = {"Cache-Control": CACHE}
        try:
            content = await asyncio.to_thread(public_content, runner.views, code, app.clock())
        except NotACommunity as e:
            if as_json:
                return Response(error_body(str(e), "NOT_FOUND"), status_code=404,
                                media_type="application/json", headers=headers)
            return Response(not_found_html(str(e)), status_code=404,
                            media_type="text/html; charset=utf-8", headers=headers)
        if as_json:
            return Response(orjson.dumps(content), media_type="application/json",
                            headers=headers)
        return Response(render_html(content), media_type="text/html; charset=utf-8",
                        headers=headers)

    return [Route(PATH, page, methods=["GET"])]
