"""A node's ancestry (its code and its ancestors', nearest first), which every jurisdiction,
squad and escalation check reads: it is read in one query from the chain the cached nodes
give, so it must follow a chain that changed since it was cached, even by another
application over the same store."""

from __future__ import annotations

import pytest

from gridcore.authority import System
from gridcore.errors import NotFound
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, given_community

OTHER_STREET = STREET[:-1] + "2"
OTHER_COMMUNITY = OTHER_STREET + "719"


def test_a_chain_moved_by_another_application_is_followed(make_app):
    reader, writer = make_app(), make_app()
    given_community(writer, households_per_zone=1)
    writer.create_node(OTHER_STREET, "二七街道", DISTRICT, by=System.OPERATOR)
    writer.create_node(OTHER_COMMUNITY, "新社区", OTHER_STREET, by=System.OPERATOR)
    assert reader.ancestry(ZONES[0]) == [ZONES[0], COMMUNITY, STREET, DISTRICT, CITY]

    writer.move_node(COMMUNITY, OTHER_STREET, by=System.OPERATOR)  # an ancestor moves
    assert reader.ancestry(ZONES[0]) == [ZONES[0], COMMUNITY, OTHER_STREET, DISTRICT, CITY]

    writer.move_node(ZONES[0], OTHER_COMMUNITY, by=System.OPERATOR)  # the node itself moves
    assert reader.ancestry(ZONES[0]) == [ZONES[0], OTHER_COMMUNITY, OTHER_STREET, DISTRICT,
                                         CITY]
    assert reader.ancestry(ZONES[1]) == [ZONES[1], COMMUNITY, OTHER_STREET, DISTRICT, CITY]
    assert reader.ancestry(CITY) == [CITY]


def test_an_unknown_code_is_not_found_by_its_code(make_app):
    app = make_app()
    given_community(app, households_per_zone=1)
    with pytest.raises(NotFound, match="'9999'"):
        app.ancestry("9999")


def test_a_subtree_is_read_a_level_at_a_time_in_order_and_up_to_date(make_app):
    reader, writer = make_app(), make_app()
    given_community(writer, households_per_zone=1)
    writer.create_node(OTHER_STREET, "二七街道", DISTRICT, by=System.OPERATOR)
    writer.create_node(OTHER_COMMUNITY, "新社区", OTHER_STREET, by=System.OPERATOR)
    before = [n.code for n in reader.subtree(DISTRICT)]
    assert before == [DISTRICT, STREET, COMMUNITY, *ZONES, OTHER_STREET, OTHER_COMMUNITY]

    writer.move_node(ZONES[0], OTHER_COMMUNITY, by=System.OPERATOR)
    assert [n.code for n in reader.subtree(DISTRICT)] == [
        DISTRICT, STREET, COMMUNITY, ZONES[1], OTHER_STREET, OTHER_COMMUNITY, ZONES[0]]
    assert [g.code for g in reader.micro_grids(OTHER_STREET)] == [ZONES[0]]
    # copies: changing one leaves the application's own nodes as they are
    reader.subtree(COMMUNITY)[0].children.clear()
    assert [n.code for n in reader.subtree(COMMUNITY)] == [COMMUNITY, ZONES[1]]
