"""The PostgreSQL environment a store is given: a session idle in a transaction is killed only
after a minute (the library's 5 s killed a command's session on a loaded machine), unless the
operator sets the library's variable."""

from __future__ import annotations

from adapters.settings import postgres_env
from tests.conftest import PG_DSN, need_postgres

VAR = "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"


def test_a_minute_by_default_and_the_operators_value_when_set(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert postgres_env(PG_DSN)[VAR] == "60"
    monkeypatch.setenv(VAR, "15")
    assert postgres_env(PG_DSN)[VAR] == "15"


def test_the_store_sessions_carry_it(monkeypatch, pg_schema):
    need_postgres()
    from adapters.bootstrap import bootstrap

    monkeypatch.delenv(VAR, raising=False)
    app = bootstrap(postgres_env(PG_DSN, schema=pg_schema)).app
    try:
        with app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
            curs.execute("SHOW idle_in_transaction_session_timeout")
            row = curs.fetchone()
        assert row is not None
        assert next(iter(row.values())) == "1min"
    finally:
        app.close()

