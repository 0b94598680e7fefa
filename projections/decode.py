"""Lean decoding for readers: stored events as instances of their own classes, built without
pydantic validation and without opening any sealed personal value.

The projections read a million events on a catch-up; full validation (and the sealed-value
hooks) cost about ten times what parsing the JSON does. What was stored was validated when it
was written, so a reader can trust its shape: each field is converted by a converter compiled
once per class from the field's annotation, and the instance is assembled directly.

What a lean event differs in (projections rely on these;
tests/projections/test_projection_decode.py checks them against the full decoder for every
stored event class):

- ids (``UUID`` fields and ``originator_id``) are canonical text (``str(uuid)``), not ``UUID``;
- personal values (``Personal`` subclasses) are ``None``: read models keep no personal data;
- everything else (times, dates, enums, nested models, lists, sets, defaults) is as validated.

Old stored versions are upcast first, as the full mapper does.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic
from pydantic import BaseModel, TypeAdapter

from gridcore.base import Personal, upcast
from projections.base import LeanEvent

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

Convert = Callable[[Any], Any] | None
"""A stored JSON value -> the lean value (None: the JSON value is the value)."""

RawRow = tuple[int, str | UUID, int, str, bytes]
"""A stored event as read: notification id, originator id, version, topic, state."""

Decoded = tuple[int, str, LeanEvent]
"""A decoded event: notification id, topic, the lean event."""


def canonical_id(value: str | UUID) -> str:
    """An originator id as read from either database -> canonical UUID text."""
    if isinstance(value, str):
        if len(value) == 32:  # SQLite keeps the hex digits only
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return value
    return str(value)


def _none(_: Any) -> None:
    return None


def _optional(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else inner(v)


def _each(inner: Callable[[Any], Any], kind: type) -> Callable[[Any], Any]:
    if kind is list:
        return lambda v: [inner(x) for x in v]
    return lambda v: kind(inner(x) for x in v)


def converter(annotation: Any) -> Convert:
    """The converter of one annotation (compiled once per class field)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return converter(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            inner = converter(args[0])
            return None if inner is None else _optional(inner)
        return _validated(annotation)
    if origin in (list, tuple, set, frozenset):
        items = typing.get_args(annotation)
        if origin is tuple and not (len(items) == 2 and items[1] is Ellipsis):
            return _validated(annotation)
        inner = converter(items[0]) if items else None
        if inner is None:
            return None if origin is list else origin
        return _each(inner, origin)
    if origin is dict:
        key, value = typing.get_args(annotation) or (Any, Any)
        kc, vc = converter(key), converter(value)
        if kc is None and vc is None:
            return None
        k, v = kc or (lambda x: x), vc or (lambda x: x)
        return lambda d: {k(a): v(b) for a, b in d.items()}
    if origin is typing.Literal or annotation in (str, int, float, bool, Any):
        return None
    if isinstance(annotation, type):
        if issubclass(annotation, Personal):
            return _none
        if issubclass(annotation, BaseModel):
            return Lean.of(annotation).build
        if issubclass(annotation, UUID):
            return None  # stored as canonical text already
        if issubclass(annotation, datetime):
            return datetime.fromisoformat
        if issubclass(annotation, date):
            return date.fromisoformat
        if issubclass(annotation, Enum):
            return annotation
    return _validated(annotation)


def _validated(annotation: Any) -> Callable[[Any], Any]:
    """Anything unusual is validated in full (correct, only slower)."""
    return TypeAdapter(annotation).validate_python


class Lean:
    """The compiled builder of one model class."""

    _cache: typing.ClassVar[dict[type, Lean]] = {}

    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.converters: list[tuple[str, Callable[[Any], Any]]] = []
        self.defaults: list[tuple[str, Any, bool]] = []
        self.names = set(cls.model_fields)  # shared by its instances: nobody changes it
        for name, field in cls.model_fields.items():
            if name in ("originator_id", "originator_version"):
                continue
            conv = converter(field.annotation)
            if conv is not None:
                self.converters.append((name, conv))
            if not field.is_required():
                factory = field.default_factory is not None
                self.defaults.append((name, field.default_factory if factory
                                      else field.default, factory))

    @classmethod
    def of(cls, model: type[BaseModel]) -> Lean:
        lean = cls._cache.get(model)
        if lean is None:
            lean = cls._cache[model] = Lean(model)
        return lean

    def build(self, state: dict[str, Any]) -> Any:
        for name, default, factory in self.defaults:
            if name not in state:
                state[name] = default() if factory else default
        for name, conv in self.converters:
            value = state[name]
            if value is not None:
                state[name] = conv(value)
        obj = _new(self.cls)
        _set(obj, "__dict__", state)
        _set(obj, "__pydantic_fields_set__", self.names)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj


_new = object.__new__
_set = object.__setattr__


class LeanDecoder:
    """Decodes raw rows of the event log into lean events (see the module's notes)."""

    def __init__(self, mapper: Mapper[Any] | None = None) -> None:
        self.cipher = getattr(mapper, "cipher", None)
        self.compressor = getattr(mapper, "compressor", None)
        self._classes: dict[str, tuple[type, Lean]] = {}

    def _lean(self, topic: str) -> tuple[type, Lean]:
        found = self._classes.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            found = self._classes[topic] = (cls, Lean.of(cls))
        return found

    def decode(self, row: RawRow) -> LeanEvent:
        _, originator_id, version, topic, data = row
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        cls, lean = self._lean(topic)
        state = orjson.loads(data)
        if "class_version" in state or getattr(cls, "class_version", 1) > 1:
            state = upcast(cls, state)
        state["originator_id"] = canonical_id(originator_id)
        state["originator_version"] = version
        return lean.build(state)

    def decode_all(self, rows: Sequence[RawRow]) -> list[Decoded]:
        """(notification id, topic, event) for each row, in order."""
        decode = self.decode
        return [(row[0], row[3], decode(row)) for row in rows]
