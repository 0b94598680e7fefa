"""Application tests: every command through ``GridcoreApp`` (built by the composition root,
``adapters.bootstrap``) on the memory, SQLite and PostgreSQL stores of the root conftest's
``store`` fixture, hypothesis state machines per lifecycle, bad and extreme input, imports and
ingest files, offline sync."""
