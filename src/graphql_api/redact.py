"""Production error messages without the values a client submitted.

graphql-core's messages about a bad value quote the value ("Int cannot represent non-integer
value: 'x'", "Value 'x' does not exist in 'Health' enum.", "Variable '$v' has invalid value:
…", a DateTime's parse error quoting the first characters of the text): whatever keeps error
messages (a client's log, a proxy, a monitoring tool) would keep whatever was sent, personal
data included. In production the message stays (it says what was wrong) and the value
becomes ``<value>``: first where the messages put it, then, as a net, wherever a value of the
request (a variable's or a literal of the document) still appears. (The server's own log keeps
the full message: strawberry logs errors before they are masked.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    StringValueNode,
    Visitor,
    visit,
)

VALUE = "<value>"

_PLACES = (
    # "<Scalar> cannot represent non-integer value: 'x'", "… cannot represent a DateTime: …"
    (re.compile(r"(cannot represent[^:]*): .*", re.DOTALL), rf"\1: {VALUE}"),
    (re.compile(r"\bValue .+? does not exist in ('[^']*') enum\.?", re.DOTALL),
     rf"Value {VALUE} does not exist in \1 enum."),
    (re.compile(r"(\bfound:?) .+?(;|\.?$)", re.DOTALL), rf"\1 {VALUE}\2"),
    (re.compile(r"(got invalid value) .+?(;| at '|$)", re.DOTALL), rf"\1 {VALUE}\2"),
    # the parser's "Unexpected Name 'x'." and "… but got: 'x'."
    (re.compile(r"(Unexpected (?:Name|String|BlockString|Int|Float)) .+?\.?$", re.DOTALL),
     rf"\1 {VALUE}."),
    (re.compile(r"(but got:) .+?\.?$", re.DOTALL), rf"\1 {VALUE}."),
    (re.compile(r"(Unknown operation named) .+?\.?$", re.DOTALL), rf"\1 {VALUE}."),
)
_NET_MIN = 4
"""values shorter than this are replaced only where quoted (a bare "1" or "id" is everywhere)"""


def without_values(message: str, values: Iterable[str] = ()) -> str:
    """``message`` with the submitted values (``values``: the request's) replaced."""
    for pattern, replacement in _PLACES:
        message = pattern.sub(replacement, message)
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        if value == VALUE:
            continue
        quoted = "|".join(re.escape(q + value + q) for q in ("'", '"'))
        if len(value) >= _NET_MIN:
            quoted += r"|(?<![\w<])" + re.escape(value) + r"(?![\w>])"
        message = re.sub(quoted, VALUE, message)
    return message


def submitted_values(document: Any, variables: Any) -> list[str]:
    """The leaf values of a request as text: its variables' and its document's literals."""
    found = list(_leaves(variables))
    if document is not None:
        class Literals(Visitor):
            def enter(self, node: Any, *_: Any) -> None:
                if isinstance(node, StringValueNode | IntValueNode | FloatValueNode
                              | EnumValueNode):
                    found.append(node.value)
                elif isinstance(node, BooleanValueNode):
                    found.append(str(node.value).lower())

        visit(document, Literals())
    return found


def _leaves(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 64:  # decoded JSON is at most 1024 deep; no message quotes so deep a value
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item, depth + 1)
    elif isinstance(value, bool):
        yield str(value).lower()
        yield str(value)
    elif value is not None:
        yield str(value)
