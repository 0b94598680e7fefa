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
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from gridcore.errors import InvalidInput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DEPTH = 8
_LONG = 4096


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
    mappings, dataclasses and pydantic models) cannot be stored.

    The strings are gathered first (``_gather``: no names built, each type's branch looked up
    once) and searched as one text; only text with something unstorable in it is walked again
    by ``_walk``, which names where it is (and decides: gathering more than it checks only
    costs time). For a batch of 10,000 households (about 120,000 values) walking with names
    took 0.21 s, a sixth of the registration; gathering takes 0.04 s. Long strings
    (over ``_LONG`` characters) are searched on their own, each object once: a list holding
    one 100,000-character text 25,000 times is searched in 100,000 characters, not joined
    into 2.5 billion."""
    strings: list[str] = []
    long: dict[int, str] = {}
    for named in arguments:
        _gather(named.values(), 0, strings, long)
    if _UNSTORABLE.search("".join(strings)) is None and not any(
            _UNSTORABLE.search(text) for text in long.values()):
        return
    for named in arguments:
        for name, value in named.items():
            _walk(value, name.replace("_", " "), 0)


_SKIP, _TEXT, _ITEMS, _MAPPING, _MODEL, _DATACLASS = range(6)
_KINDS: dict[type, int] = {str: _TEXT, int: _SKIP, float: _SKIP, bool: _SKIP, bytes: _SKIP,
                           type(None): _SKIP, UUID: _SKIP, datetime: _SKIP, date: _SKIP,
                           list: _ITEMS, tuple: _ITEMS}
"""How ``_walk`` treats a value of each type (looked up once per type)."""
_FIELDS: dict[type, tuple[str, ...]] = {}
"""The field names of each dataclass met."""


def _kind_of(kind: type) -> int:
    """The branch of ``_walk`` an instance of ``kind`` takes, in its order."""
    if issubclass(kind, str):
        found = _TEXT
    elif issubclass(kind, int | float | bytes) or kind is type(None):
        found = _SKIP
    elif issubclass(kind, list | tuple | set | frozenset):
        found = _ITEMS
    elif issubclass(kind, Mapping):
        found = _MAPPING
    elif issubclass(kind, BaseModel):
        found = _MODEL
    elif dataclasses.is_dataclass(kind) and not issubclass(kind, type):
        found = _DATACLASS
    else:
        found = _SKIP
    _KINDS[kind] = found
    return found


def _gather(values: Iterable[Any], depth: int, strings: list[str],
            long: dict[int, str]) -> None:
    """Every string ``_walk`` would check in ``values`` (each at ``depth``): in ``strings``,
    or by identity in ``long`` when longer than ``_LONG``."""
    for value in values:
        kind = _KINDS.get(type(value))
        if kind is None:
            kind = _kind_of(type(value))
        if kind == _TEXT:
            if len(value) > _LONG:
                long[id(value)] = value
            else:
                strings.append(value)
        elif kind == _SKIP or depth >= _DEPTH:
            continue
        elif kind == _ITEMS:
            if value:  # most lists of a batch (a resident's vulnerabilities) are empty
                _gather(value, depth + 1, strings, long)
        elif kind == _MAPPING:
            _gather(value.keys(), depth + 1, strings, long)
            _gather(value.values(), depth + 1, strings, long)
        elif kind == _MODEL:
            _gather(value.__dict__.values(), depth + 1, strings, long)
        else:
            names = _FIELDS.get(type(value))
            if names is None:
                names = _FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
            _gather([getattr(value, name) for name in names], depth + 1, strings, long)


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
