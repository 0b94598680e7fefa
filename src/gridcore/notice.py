"""公告: an official's notice to every household of a scope, or 宣传 (education) residents may
opt out of. The notifier turns its ``Posted`` event into the scope's messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from gridcore.base import Aggregate, Created, stable_id
from gridcore.errors import InvalidInput
from gridcore.notification import Category
from gridcore.text import free_text


class Notice(Aggregate):
    """公告: an official's notice to every household of a scope (or, 宣传, education)."""

    scope: str
    text: str
    category: Category
    by: UUID | None
    urgent: bool
    """紧急公告: sent at once, in the quiet hours too"""

    class Posted(Created):
        class_version: ClassVar[int] = 2

        scope: str
        text: str
        category: Category
        by: UUID | None
        urgent: bool = False

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 notices were never urgent."""
            state["urgent"] = False

        def apply(self, n: Notice) -> None:
            n.scope, n.text, n.category, n.by = self.scope, self.text, self.category, self.by
            n.urgent = self.urgent

    @classmethod
    def post(cls, reference: str, scope: str, text: str, category: Category, by: UUID | None,
             at: datetime, urgent: bool = False) -> Notice:
        if category not in (Category.NOTICE, Category.EDUCATION):
            raise InvalidInput(f"A notice is 公告 or 宣传, not {category.label}.",
                               "Post it as notice or education.")
        if urgent and category is not Category.NOTICE:
            raise InvalidInput("宣传 education is never urgent.",
                               "Post it as 公告 (notice) to send it at once, or as education "
                               "without urgent.")
        body = free_text(text, "notice text", longest=1000, required=True,
                         example="明日8时起全员核酸检测，请携带身份证。")
        return cls._create(cls.Posted, notice_id(reference), at, scope=scope, text=body,
                           category=category, by=by, urgent=urgent)


def check_names_absent(text: str, names: Iterable[str | None]) -> None:
    """A notice goes to chat groups where every neighbour reads it: it may not name a
    resident of its scope (a name of two characters or more found in the text)."""
    if any(name and len(name) >= 2 and name in text for name in names):
        raise InvalidInput("The notice names a resident of its scope.",
                           "Leave names out: a notice is read by the whole chat group "
                           "(a person is told by their worker, or by a text to them).")


def notice_id(reference: str) -> UUID:
    return stable_id("notice", reference)
