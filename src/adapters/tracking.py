"""Where a follower of the event log (the outbound event feed) records its position: the
library's tracking recorder in the events' own database: on PostgreSQL the table the projections
use, on SQLite a ``tracking`` table of the events' file (the projections' is in their own file,
``adapters.sqlite_store.views_path``)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

POSTGRES_TRACKING_TABLE = "gridcore_tracking"
"""The projections' tracking table on PostgreSQL (SQLite's is the library's ``tracking``)."""


def tracking_recorder(app: Any) -> TrackingRecorder:
    """A tracking recorder in the same database as ``app``'s events (an in-memory application
    gets an in-memory one)."""
    datastore = getattr(app.factory, "datastore", None)
    recorder: Any
    if isinstance(datastore, PostgresDatastore):
        recorder = PostgresTrackingRecorder(datastore,
                                            tracking_table_name=POSTGRES_TRACKING_TABLE)
    elif isinstance(datastore, SQLiteDatastore):
        recorder = SQLiteTrackingRecorder(datastore)
    else:
        return POPOTrackingRecorder()
    recorder.create_table()
    return recorder
