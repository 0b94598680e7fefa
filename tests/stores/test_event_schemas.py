"""The JSON Schema of every event kind (``docs/events``, the outbound feed's bodies): the
committed files are the generated ones, and every stored fixture event, sealed as a store with
a vault seals it, validates against its class's schema with no personal value in plain."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema_rs
import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from adapters.codec import OrjsonTranscoder, PydanticMapper
from adapters.event_schemas import SEALED, all_schemas, event_classes, event_schema
from adapters.vault import KeyVault
from gridcore.staff import StaffMember
from tests.fixtures.make_event_fixtures import EVENTS_DIR

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"
REGENERATE = ".venv/bin/gridcore stream schemas --out docs/events"
SCHEMAS = all_schemas()


def test_the_schema_generator_covers_exactly_the_stored_event_classes() -> None:
    # every topic with a stored fixture is a class with a schema, and the other way round
    stored = {f.name.rsplit("-v", 1)[0] for f in EVENTS_DIR.glob("*.json")}
    assert {get_topic(c) for c in event_classes()} == stored
    assert len(SCHEMAS) == len(event_classes())


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_committed_schema_is_the_generated_one(name: str) -> None:
    path = DOCS / name
    assert path.exists(), f"{name} is not committed: run {REGENERATE}"
    assert path.read_text(encoding="utf-8") == SCHEMAS[name], f"stale: run {REGENERATE}"


def test_a_personal_value_is_an_opaque_sealed_object_in_the_schema() -> None:
    schema = event_schema(StaffMember.Enrolled)
    text = json.dumps(schema)
    assert '"phone"' not in text and '"name"' not in text  # the plain fields never appear
    assert schema["properties"]["identity"] == {"$ref": "#/$defs/StaffIdentity"}
    assert schema["$defs"]["StaffIdentity"]["anyOf"] == SEALED["anyOf"]
    assert "originator_id" not in schema["properties"]  # the key and subject, not the body
    assert schema["properties"]["class_version"] == {"const": 3}


def sealing_mapper() -> tuple[PydanticMapper, PydanticMapper]:
    keys: dict[UUID, bytes] = {}
    plain = PydanticMapper(transcoder=OrjsonTranscoder())
    plain.vault = None
    sealing = PydanticMapper(transcoder=OrjsonTranscoder())
    sealing.vault = KeyVault(lambda ids: {i: keys[i] for i in ids if i in keys})
    return plain, sealing


@pytest.mark.parametrize("path", sorted(EVENTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_each_fixture_event_as_the_feed_carries_it_validates(path: Path) -> None:
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    cls = resolve_topic(record["topic"])
    plain, sealing = sealing_mapper()
    event = plain.to_domain_event(StoredEvent(
        originator_id=UUID(record["originator_id"]),
        originator_version=record["originator_version"], topic=record["topic"],
        state=base64.b64decode(record["state"])))  # an old version comes upcast
    state = orjson.loads(sealing.to_stored_event(event).state)
    name = f"{get_topic(cls)}-v{cls.class_version}.schema.json"
    validator = jsonschema_rs.validator_for(json.loads(SCHEMAS[name]))
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(state)]
    assert not errors, errors
    # and a plain personal value would not pass where a sealed one is expected
    sealed = [k for k, v in state.items() if isinstance(v, dict) and "sealed" in v]
    for key in sealed:
        opened = dict(state, **{key: {"subject_id": state[key]["subject_id"], "x": "y"}})
        assert not validator.is_valid(opened), key
