"""Ids as the API takes them: a client sends a UUID in any of its spellings, the read models
store one. Shared by every area (queries, mutations, the node interface)."""

from __future__ import annotations

from uuid import UUID


def canonical(raw: str) -> str | None:
    """A household, resident, staff or other id in the form the read models store (None if
    malformed)."""
    try:
        return str(UUID(raw))
    except ValueError:
        return None
