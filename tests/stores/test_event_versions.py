"""Every event class has a version, and a stored fixture of each version it has had.

The fixtures under ``tests/fixtures/events`` are written by
``tests/fixtures/make_event_fixtures.py`` (unsealed: they need no keys). Adding an event class
or bumping a ``class_version`` without writing its fixture fails here; so does a change that
stops an old stored shape from decoding.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from adapters.codec import OrjsonTranscoder, PydanticMapper, upcast
from gridcore.base import Event
from tests.fixtures.make_event_fixtures import EVENTS_DIR, event_classes

MAKE = "tests/fixtures/make_event_fixtures.py"


def fixtures() -> list[Path]:
    return sorted(EVENTS_DIR.glob("*.json"))


def plain_mapper() -> PydanticMapper:
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    mapper.vault = None
    return mapper


def stored(record: dict[str, Any]) -> StoredEvent:
    return StoredEvent(originator_id=UUID(record["originator_id"]),
                       originator_version=record["originator_version"],
                       topic=record["topic"], state=base64.b64decode(record["state"]))


def test_the_gridcore_modules_define_the_event_classes_we_expect():
    classes = event_classes()
    assert len(classes) >= 34
    topics = {get_topic(c) for c in classes}
    assert {"gridcore.household:Household.Registered", "gridcore.grid:GridNode.Established",
            "gridcore.idempotency:ClientCommand.Recorded",
            "gridcore.assignment:Assignment.WorkMoved"} <= topics


@pytest.mark.parametrize("cls", event_classes(), ids=get_topic)
def test_every_event_class_has_a_fixture_for_each_of_its_versions(cls):
    version = cls.class_version
    assert isinstance(version, int) and version >= 1
    missing = [v for v in range(1, version + 1)
               if not (EVENTS_DIR / f"{get_topic(cls)}-v{v}.json").exists()]
    assert not missing, (f"{get_topic(cls)} has no stored fixture of version(s) {missing}: "
                         f"run {MAKE} and commit the new file")
    if version > 1:
        for v in range(1, version):
            assert callable(getattr(cls, f"upcast_v{v}_v{v + 1}", None)), (cls, v)


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: p.stem)
def test_each_fixture_decodes_into_its_class_with_its_field_values(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    topic, version = record["topic"], record["class_version"]
    assert path.name == f"{topic}-v{version}.json"
    cls = resolve_topic(topic)  # an event class may not be removed while it is stored
    state = json.loads(base64.b64decode(record["state"]))
    assert state.get("class_version", 1) == version
    assert "sealed" not in record["state"] and "sealed" not in json.dumps(state)

    event = plain_mapper().to_domain_event(stored(record))
    assert type(event) is cls
    assert (event.originator_id, event.originator_version) == (
        UUID(record["originator_id"]), record["originator_version"])
    if version == cls.class_version:
        assert event == cls.model_validate(record["fields"])
    else:  # an older shape, upcast: the fields that kept their meaning kept their values
        now = event.model_dump(mode="json")
        kept = {k for k in record["fields"] if k in now}
        assert {"originator_id", "originator_version", "timestamp"} <= kept


def test_the_fixtures_are_what_the_current_mapper_would_store():
    """Re-encoding a decoded current-version fixture gives back its stored state."""
    mapper = plain_mapper()
    for path in fixtures():
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["class_version"] != resolve_topic(record["topic"]).class_version:
            continue
        again = mapper.to_stored_event(mapper.to_domain_event(stored(record)))
        assert json.loads(again.state) == json.loads(base64.b64decode(record["state"])) or (
            record["topic"] == "gridcore.policy:PolicyBook.Adopted"  # frozensets: any order
        ), path.name


# ---- the upcasting mechanism ----------------------------------------------------------------

class Relabelled(Event):
    """v1 stored ``name``; v2 renamed it ``label`` and added ``source``; v3 added ``tags``."""

    class_version: ClassVar[int] = 3

    label: str
    source: str
    tags: list[str]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["label"] = state.pop("name")
        state["source"] = "unknown"

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["tags"] = [state["source"]]


class Noted(Event):
    class_version: ClassVar[int] = 2

    note: str
    author: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["author"] = state.pop("by", None) or "anonymous"


def _stored(cls: type, state: dict[str, Any], version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id=uuid4(), originator_version=version, topic=get_topic(cls),
                       state=OrjsonTranscoder().encode(state))


def test_a_v1_stored_state_is_upcast_when_read():
    mapper = plain_mapper()
    old = _stored(Noted, {"timestamp": "2020-02-17T08:00:00+00:00", "note": "门口放菜"})
    event = mapper.to_domain_event(old)
    assert isinstance(event, Noted)
    assert (event.note, event.author) == ("门口放菜", "anonymous")
    named = _stored(Noted, {"timestamp": "2020-02-17T08:00:00+00:00", "note": "n", "by": "王芳",
                            "class_version": 1})
    assert mapper.to_domain_event(named).author == "王芳"


def test_upcasting_goes_one_version_at_a_time_and_only_from_the_stored_version():
    mapper = plain_mapper()
    v1 = _stored(Relabelled, {"timestamp": "2020-02-17T08:00:00+00:00", "name": "旧名"})
    e1 = mapper.to_domain_event(v1)
    assert (e1.label, e1.source, e1.tags) == ("旧名", "unknown", ["unknown"])
    v2 = _stored(Relabelled, {"timestamp": "2020-02-17T08:00:00+00:00", "label": "名",
                              "source": "import", "class_version": 2})
    e2 = mapper.to_domain_event(v2)
    assert (e2.label, e2.source, e2.tags) == ("名", "import", ["import"])
    assert upcast(Relabelled, {"name": "x"}) == {"label": "x", "source": "unknown",
                                                 "tags": ["unknown"]}


def test_a_current_event_is_stored_with_its_version_and_read_back_unchanged():
    mapper = plain_mapper()
    event = Relabelled(originator_id=uuid4(), originator_version=4,
                       timestamp="2020-02-17T08:00:00+00:00", label="新", source="app",
                       tags=["a", "b"])
    record = mapper.to_stored_event(event)
    assert record.topic == "tests.stores.test_event_versions:Relabelled"
    assert json.loads(record.state)["class_version"] == 3
    assert mapper.to_domain_event(record) == event
    # a version-1 event class stores no version number at all
    v1 = json.loads((EVENTS_DIR / "gridcore.idempotency:ClientCommand.Recorded-v1.json")
                    .read_text(encoding="utf-8"))
    assert "class_version" not in json.loads(base64.b64decode(v1["state"]))
