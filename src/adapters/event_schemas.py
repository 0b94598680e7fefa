"""A JSON Schema per event kind: the body the outbound feed carries for each event class.

The schema describes an event's stored state (what ``EventFeed`` publishes as ``state`` and a
CloudEvent carries as ``data``): the event's fields without ``originator_id`` and
``originator_version`` (they are the message's key/subject and headers), at the class's
current ``class_version``. Personal values (:class:`gridcore.base.Personal`) are never
described field by field: on the feed they are an opaque sealed object (``subject_id`` and the
``sealed`` ciphertext, base64), or, after the subject's key was destroyed, an erased one whose
personal fields are all null.

Written to ``docs/events/<event topic>-v<class_version>.schema.json`` by
``gridcore feed schemas --out docs/events``; a test keeps the committed files equal to these.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

import gridcore
from gridcore.base import Created, Event, Personal

#: Where the schemas are published; a CloudEvent's ``dataschema`` is this base + file name.
SCHEMA_BASE_URI = "https://gridcore.example/events/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_NOT_IN_BODY = ("originator_id", "originator_version")

SEALED: dict[str, Any] = {
    "title": "Sealed personal data 加密个人信息",
    "description": "Personal data sealed with its data subject's own key (AES-GCM, nonce + "
                   "ciphertext in base64); opaque to every feed consumer. After the key was "
                   "destroyed (erasure) it is an erased object with every personal field null.",
    "anyOf": [
        {"type": "object", "additionalProperties": False,
         "required": ["subject_id", "sealed"],
         "properties": {"subject_id": {"type": "string", "format": "uuid"},
                        "sealed": {"type": "string", "contentEncoding": "base64"}}},
        {"type": "object", "additionalProperties": {"type": "null"},
         "required": ["subject_id", "erased"],
         "properties": {"subject_id": {"type": "string", "format": "uuid"},
                        "erased": {"const": True}}},
    ],
}


class _SealedPersonal(GenerateJsonSchema):
    """Pydantic's generator, with every ``Personal`` model as the opaque sealed object."""

    def generate_inner(self, schema: Any) -> JsonSchemaValue:
        # before pydantic's serialization branch (a Personal's wrap serializer gives {})
        if schema.get("type") == "model" and issubclass(schema.get("cls", object), Personal):
            return dict(SEALED)
        return super().generate_inner(schema)


def event_classes() -> list[type[Event]]:
    """Every stored Event class of the gridcore modules, by topic (nested or not; a shape
    other events extend is never stored itself)."""
    found: dict[str, type[Event]] = {}
    seen: set[type] = set()

    def walk(owner: Any, module: str) -> Iterator[type]:
        for value in vars(owner).values():
            if inspect.isclass(value) and value.__module__ == module and value not in seen:
                seen.add(value)
                yield value
                yield from walk(value, module)

    for info in pkgutil.iter_modules(gridcore.__path__, "gridcore."):
        module = importlib.import_module(info.name)
        for cls in walk(module, info.name):
            if issubclass(cls, Event) and cls not in (Event, Created) \
                    and not cls.__subclasses__():
                found[get_topic(cls)] = cls
    return [found[t] for t in sorted(found)]


def schema_file(topic: str, version: int) -> str:
    """``gridcore.household:Household.Registered-v3.schema.json``."""
    return f"{topic}-v{version}.schema.json"


def schema_uri(topic: str, version: int, base: str = SCHEMA_BASE_URI) -> str:
    return base + schema_file(topic, version)


def event_schema(cls: type[Event], base: str = SCHEMA_BASE_URI) -> dict[str, Any]:
    """The JSON Schema of the feed body of ``cls`` at its current class version."""
    topic, version = get_topic(cls), getattr(cls, "class_version", 1)
    body = cls.model_json_schema(mode="serialization", schema_generator=_SealedPersonal)
    props = body.get("properties", {})
    for name in _NOT_IN_BODY:
        props.pop(name, None)
    body["required"] = [r for r in body.get("required", []) if r not in _NOT_IN_BODY]
    if version > 1:  # the stored state names a class version above 1
        props["class_version"] = {"const": version}
        body["required"].append("class_version")
    head = {"$schema": DRAFT, "$id": schema_uri(topic, version, base),
            "x-gridcore-topic": topic, "x-gridcore-class-version": version}
    return head | body


def all_schemas(base: str = SCHEMA_BASE_URI) -> dict[str, str]:
    """File name -> JSON text (sorted keys, two-space indent, final newline)."""
    out = {}
    for cls in event_classes():
        schema = event_schema(cls, base)
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        out[schema_file(get_topic(cls), getattr(cls, "class_version", 1))] = text
    return out


def write_schemas(out: Path, base: str = SCHEMA_BASE_URI) -> list[Path]:
    """Write every schema under ``out`` (created if missing); returns the files written.
    A schema of a class version no longer current stays: stored events may still have it."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in all_schemas(base).items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
