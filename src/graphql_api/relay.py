"""Relay's ``Node`` interface: an object that ``node(id:)`` finds again by its id.

Ids are the ones the API already gives (UUIDs of households, staff, referrals, deliveries,
enterprises and alerts; a grid node's code), globally unique as they stand, so no type prefix
is encoded in them and a client can pass any ``id`` it was given.
"""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with an id that `node(id:)` finds again (Relay).")
class Node:
    id: strawberry.ID
