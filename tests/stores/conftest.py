"""Store tests: persistence on SQLite and PostgreSQL, concurrency, stored event versions,
crypto-shredding, key wrapping and rotation. The helpers that look inside a store are this
package's own (``tests/stores/__init__.py``)."""
