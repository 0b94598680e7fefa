"""Relay's ``Node`` interface: an object that ``node(id:)`` finds again by its id.

Ids are the ones the API already gives (UUIDs of households, staff, referrals, deliveries,
enterprises and alerts; a grid node's code), globally unique as they stand, so no type prefix
is encoded in them and a client can pass any ``id`` it was given.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError


@strawberry.interface(description="An object with an id that `node(id:)` finds again (Relay).")
class Node:
    id: strawberry.ID


def page_size(first: int, page_max: int, what: str, cursor: bool = False) -> int:
    """How many ``what`` a list or connection answers: ``first`` itself. More than the largest
    page (``ApiSettings.page_max``) or fewer than none is an error naming the maximum, never a
    page silently shorter than asked."""
    if 0 <= first <= page_max:
        return first
    more = (" and ask for the next page with `after:` its pageInfo.endCursor" if cursor
            else "")
    raise GraphQLError(f"`first` must be from 0 to {page_max}: the largest page of {what} is "
                       f"{page_max}. Ask for at most {page_max}{more}.")
