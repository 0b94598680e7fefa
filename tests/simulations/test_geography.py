"""The layout of a grid (``adapters.layout``) and the generated city's geography: the same
tree gives the same layout; every child lies within its parent, siblings do not overlap and
children cover their parent with no gap, as the boundary rules of ``gridcore.geo`` judge
them; buildings stand inside their micro-grid; and the generator draws it all through the
commands (the store's boundaries pass the same rules, each building's point proposes its own
micro-grid, and building the city again writes nothing)."""

from __future__ import annotations

from dataclasses import replace

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.layout import JIANG_AN, Layout, Node, lay_out
from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.building import building_id
from gridcore.geo import Point, cover_gap, outside_parent, overlaps
from simulations.city import CitySpec, build_city, building_grids, city_layout, city_tree

SPEC = CitySpec(seed=3, city_code="9902", city_name="布局市", districts=2,
                streets_per_district=2, communities_per_street=3, grids_per_community=5,
                households_per_community=120, community_jitter=0.4,
                households_per_building=14, batch=50)


def rule_problems(tree: Node, layout: Layout) -> list[str]:
    """Every breach of the boundary rules in the layout of ``tree``, as text."""
    found: list[str] = []
    for node in tree.walk():
        if not node.children:
            continue
        parent = layout.rects[node.code].area()
        kids = {c.code: layout.rects[c.code].area() for c in node.children}
        found += [p.text for code, a in kids.items()
                  if (p := outside_parent(code, a, node.code, parent))]
        found += [p.text for p in overlaps(kids)]
        if (gap := cover_gap(node.code, parent, list(kids.values()))) is not None:
            found.append(gap.text)
    return found


def test_the_same_tree_gives_the_same_layout_and_another_another() -> None:
    tree = city_tree(SPEC)
    assert lay_out(tree) == lay_out(tree) == city_layout(SPEC)
    other = city_layout(replace(SPEC, seed=4))  # other community sizes (the jitter)
    assert other.rects != city_layout(SPEC).rects
    assert lay_out(tree, Point(lng=114.25, lat=30.55)).rects != lay_out(tree).rects
    assert list(city_layout(SPEC).rects)[:2] == [SPEC.city_code, SPEC.district_code(0)]


def test_the_city_keeps_the_boundary_rules_and_buildings_stand_in_their_micro_grid() -> None:
    tree, layout = city_tree(SPEC), city_layout(SPEC)
    assert rule_problems(tree, layout) == []
    assert len(layout.rects) == len(list(tree.walk()))
    community = SPEC.communities()[0]
    for b, grid, _ in building_grids(SPEC, community):
        point = layout.buildings[(community, str(b))]
        assert layout.rects[grid].area().contains(point)
        others = [g for g in layout.rects if g.startswith(community + "-") and g != grid]
        assert not any(layout.rects[g].area().contains(point) for g in others)
    # a node's area follows its households; its shape stays compact (no strip 5x as long)
    for node in tree.walk():
        r = layout.rects[node.code]
        width = (r.east - r.west) * 95_700
        height = (r.north - r.south) * 111_133
        assert max(width, height) / min(width, height) < 5, node.code


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 6)), min_size=1,
                         max_size=12), min_size=1, max_size=6))
def test_any_tree_keeps_the_rules(communities: list[list[tuple[int, int]]]) -> None:
    tree = Node("S", children=tuple(
        Node(f"C{c}", children=tuple(
            Node(f"C{c}-{g}", households, buildings=tuple((f"C{c}", f"{g}.{b}")
                                                          for b in range(buildings)))
            for g, (households, buildings) in enumerate(grids)))
        for c, grids in enumerate(communities)))
    layout = lay_out(tree, JIANG_AN)
    assert rule_problems(tree, layout) == []
    assert layout == lay_out(tree, JIANG_AN)
    for node in tree.walk():
        for key in node.buildings:
            assert layout.rects[node.code].area().contains(layout.buildings[key])


def test_the_generator_draws_the_city_through_the_commands() -> None:
    app = GridcoreApp(memory_env())
    build_city(app, SPEC)
    drawn = app.boundaries_under(SPEC.city_code)
    assert len(drawn) == len(list(city_tree(SPEC).walk()))
    for community in SPEC.communities():
        for b, grid, _ in building_grids(SPEC, community):
            point = app.building(building_id(community, str(b))).point
            assert point is not None
            assert app.propose_micro_grid(point, community) == grid
    assert app.misplaced_households(SPEC.city_code) == []
    written = app.recorder.max_notification_id()
    build_city(app, SPEC)
    assert app.recorder.max_notification_id() == written


def test_without_geography_the_generator_draws_nothing() -> None:
    app = GridcoreApp(memory_env())
    build_city(app, replace(SPEC, geography=False, districts=1, streets_per_district=1))
    assert app.boundaries_under(SPEC.city_code) == []


def test_gates_stand_on_the_boundary_and_sites_inside() -> None:
    layout = city_layout(SPEC)
    community = SPEC.communities()[0]
    area = layout.rects[community].area().geometry()
    gates = layout.gates(community, 4)
    assert len(set(gates)) == 4
    assert all(area.boundary.distance(shapely.Point(g.lng, g.lat)) < 1e-9 for g in gates)
    inside = [layout.inside(community, k, 3) for k in range(3)]
    assert all(area.buffer(-1e-5).contains(shapely.Point(p.lng, p.lat)) for p in inside)
