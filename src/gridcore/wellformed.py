"""Text that can be stored at all: every string a command receives, at any depth.

A JSON body may carry ``"\\ud800"`` (a lone UTF-16 surrogate), which Python decodes into a
``str`` that no UTF-8 encoder accepts: the store's transcoder, a uuid5 of a code and the
read models' drivers all raise ``UnicodeEncodeError`` on it, far from the door it came in by.
A NUL character is accepted by SQLite but refused by PostgreSQL's text columns, so the same
event would stop the read models on one store and not the other. Both are refused here, once,
for every command (``app_base.command`` calls ``check_wellformed``), naming the argument.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from gridcore.errors import InvalidInput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DEPTH = 8


def unstorable_at(text: str) -> int | None:
    """The position of the first character no store can hold, or None."""
    found = _UNSTORABLE.search(text)
    return None if found is None else found.start()


def check_text_storable(text: str, what: str) -> None:
    at = unstorable_at(text)
    if at is not None:
        kind = "a NUL character" if text[at] == "\x00" else "a lone surrogate (broken UTF-16)"
        raise InvalidInput(f"The {what} contains {kind} at position {at}, which cannot be "
                           "stored.",
                           "Send the text as valid UTF-8 (JSON escapes of paired surrogates "
                           "only) without NUL characters.")


def check_wellformed(*arguments: Mapping[str, Any]) -> None:
    """Refuse a command any of whose strings (in its arguments by name, their lists,
    mappings, dataclasses and pydantic models) cannot be stored."""
    for named in arguments:
        for name, value in named.items():
            _walk(value, name.replace("_", " "), 0)


def _walk(value: Any, what: str, depth: int) -> None:
    if isinstance(value, str):
        check_text_storable(value, what)
    elif depth >= _DEPTH or value is None or isinstance(value, int | float | bytes):
        return
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _walk(item, what, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(key, what, depth + 1)
            _walk(item, what, depth + 1)
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            _walk(item, f"{what}.{name}", depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), f"{what}.{f.name}", depth + 1)
