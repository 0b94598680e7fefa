"""Public notices (公告栏): every notice posted (公告 and 宣传, ``gridcore.notice.Notice``) with its
scope, text, category and time, and the grid tree, so that a community's public page (知情权,
``graphql_api.public_page``) lists the notices that reach it: those posted to the community,
to any node above it, or to any node inside it.

A notice's text is refused when it names a resident of its scope (``check_names_absent``) and
holds no phone or ID number (``gridcore.text``), so it is kept as posted; who posted it is not
kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gridcore.grid import GridNode
from gridcore.notice import Notice
from projections.base import LeanEvent, Notified, Projection, ReadViews, ViewCursor, handles
from projections.support import apply_nodes, chain_cte, from_ts, node_ddl, subtree_cte, ts

NODES = "pn_nodes"


@dataclass
class _Changes:
    nodes: list[LeanEvent]
    notices: list[tuple[str, str, str, str, str]]


class PublicNotices(Projection):
    name = "public_notices"
    tables = ("pn_notices", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS pn_notices (notice_id TEXT PRIMARY KEY, scope TEXT NOT NULL, "
        "text TEXT NOT NULL, category TEXT NOT NULL, posted_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pn_notices_scope ON pn_notices (scope, posted_at)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        return _Changes([], [])

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        cur.insert("pn_notices", "notice_id, scope, text, category, posted_at", c.notices,
                   "ON CONFLICT (notice_id) DO NOTHING")

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(Notice.Posted)
    def posted(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.notices.append((str(e.originator_id), e.scope, e.text, e.category.value,
                          ts(e.timestamp) or ""))


@dataclass(frozen=True)
class NoticeRow:
    notice_id: str
    scope: str
    text: str
    category: str
    posted_at: datetime


def notices_reaching(views: ReadViews, code: str, limit: int = 200) -> list[NoticeRow]:
    """The notices posted to ``code``, to a node above it or to a node inside it (as the tree
    is now), newest first (at most ``limit``)."""
    up = chain_cte(NODES).removeprefix("WITH RECURSIVE ")
    down = subtree_cte(NODES).removeprefix("WITH RECURSIVE ")
    rows = views.query(
        f"WITH RECURSIVE {up.rstrip()}, {down}"
        "SELECT notice_id, scope, text, category, posted_at FROM pn_notices "
        "WHERE scope IN (SELECT code FROM up) OR scope IN (SELECT code FROM sub) "
        "ORDER BY posted_at DESC, notice_id LIMIT ?", (code, code, limit))
    return [NoticeRow(str(i), str(s), str(t), str(k), from_ts(str(p)) or datetime.min)
            for i, s, t, k, p in rows]


PROJECTIONS: list[Projection] = [PublicNotices()]
