"""The outbound feed's messages as CloudEvents (CNCF, spec v1.0), with the official SDK.

``GRIDCORE_FEED_FORMAT`` chooses the feed's wire format: ``plain`` (the default, the JSON
envelope of ``adapters.event_feed.envelope``), ``cloudevents-binary`` (attributes in ``ce_*``
Kafka headers, the event body as the value) or ``cloudevents-structured`` (the whole
CloudEvent as ``application/cloudevents+json`` in the value). Topics and keys are the same in
every format, and the ``gridcore-*`` headers stay, so routing never depends on the format.

One event's attributes:

- ``id``: the event id (``gridcore.base.event_id``: the same for every resend);
- ``source``: ``<GRIDCORE_FEED_SOURCE>/<aggregate kind>`` (default ``urn:gridcore:default``);
- ``type``: ``cn.gridcore.<aggregate kind>.<event name>.v<class version>``
  (``cn.gridcore.household.registered.v1``);
- ``subject`` and ``partitionkey``: the aggregate id (the Kafka key);
- ``time``: the event's timestamp; ``datacontenttype``: ``application/json``;
- ``dataschema``: the URI of the event class's JSON Schema (``adapters.event_schemas``);
- ``gridcoreversion``, ``gridcoreseq``: the aggregate version and the notification id.

``data`` is the stored state exactly as the plain feed carries it (personal values sealed),
brought up to the class's current version by its own upcasts, so the type and schema it names
are always the current ones. A compressed or enciphered store's state is opaque: it goes as
``application/octet-stream`` bytes with no ``dataschema`` and no ``time``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

import orjson
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from eventsourcing.utils import resolve_topic

from adapters.event_schemas import SCHEMA_BASE_URI, schema_uri
from adapters.stream_topics import aggregate_kind
from gridcore.base import upcast

PLAIN, BINARY, STRUCTURED = "plain", "cloudevents-binary", "cloudevents-structured"
FORMATS = (PLAIN, BINARY, STRUCTURED)
DEFAULT_SOURCE = "urn:gridcore:default"
TYPE_PREFIX = "cn.gridcore."
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def feed_format(value: str | None = None) -> str:
    """The wire format named (or ``GRIDCORE_FEED_FORMAT``; ``plain`` when unset)."""
    chosen = (value if value is not None
              else os.environ.get("GRIDCORE_FEED_FORMAT", "")).strip().lower() or PLAIN
    if chosen not in FORMATS:
        msg = (f"GRIDCORE_FEED_FORMAT={chosen!r} is not a feed format; use one of "
               f"{', '.join(FORMATS)} (plain keeps the JSON envelope consumers read today)")
        raise ValueError(msg)
    return chosen


def feed_source() -> str:
    return os.environ.get("GRIDCORE_FEED_SOURCE", "").strip() or DEFAULT_SOURCE


def event_type(topic: str, version: int) -> str:
    """``gridcore.household:Household.Registered`` v1 -> ``cn.gridcore.household.registered.v1``."""
    name = topic.rpartition(":")[2].rsplit(".", 1)[-1]
    return f"{TYPE_PREFIX}{aggregate_kind(topic)}.{_CAMEL.sub('-', name).lower()}.v{version}"


def to_cloud_event(value: bytes, source: str | None = None,
                   schema_base: str = SCHEMA_BASE_URI) -> CloudEvent:
    """The CloudEvent of one plain feed message's value (``envelope``'s JSON)."""
    msg = orjson.loads(value)
    topic, aggregate = msg["topic"], msg["aggregate_id"]
    kind = aggregate_kind(topic)
    attrs: dict[str, Any] = {
        "specversion": "1.0", "id": msg["event_id"],
        "source": f"{source or feed_source()}/{kind}", "subject": aggregate,
        "partitionkey": aggregate, "gridcoreversion": int(msg["aggregate_version"]),
        "gridcoreseq": int(msg["notification_id"]),
    }
    if "state" not in msg:  # an opaque (compressed or enciphered) stored state
        import base64

        attrs |= {"type": event_type(topic, 1), "datacontenttype": "application/octet-stream"}
        event = CloudEvent(attrs, base64.b64decode(msg["state_base64"]))
        event.get_attributes().pop("time", None)  # unknown: never the time of sending
        return event
    state: dict[str, Any] = msg["state"]
    try:
        cls = resolve_topic(topic)
        state = upcast(cls, state)
        version = getattr(cls, "class_version", 1)
    except Exception:  # a class no longer in the code: the state as stored
        version = int(state.get("class_version", 1))
    if version > 1:
        state["class_version"] = version
    attrs |= {"type": event_type(topic, version),
              "time": datetime.fromisoformat(state["timestamp"]),
              "datacontenttype": "application/json",
              "dataschema": schema_uri(topic, version, schema_base)}
    return CloudEvent(attrs, state)


def encode(record: tuple[str, bytes, bytes, list[tuple[str, bytes]]], wire: str,
           source: str | None = None, schema_base: str = SCHEMA_BASE_URI
           ) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """A plain feed record (topic, key, value, headers) in the wire format ``wire``; the
    topic, the key and the ``gridcore-*`` headers stay as they are."""
    if wire == PLAIN:
        return record
    topic, key, value, headers = record
    event = to_cloud_event(value, source, schema_base)
    message = (ce_kafka.to_binary_event(event) if wire == BINARY
               else ce_kafka.to_structured_event(event))
    return topic, key, message.value, headers + sorted(message.headers.items())


def from_kafka(value: bytes, headers: list[tuple[str, bytes]] | dict[str, bytes],
               key: bytes | None = None) -> Any:
    """A consumer's view: the CloudEvent of a binary or structured record."""
    hs = dict(headers)
    message = ce_kafka.KafkaMessage(headers=hs, key=key, value=value)
    if hs.get("content-type", b"").startswith(b"application/cloudevents"):
        return ce_kafka.from_structured_event(message)
    return ce_kafka.from_binary_event(message)
