"""Spatial questions (空间查询) in the API: households near a point or inside a polygon, each
micro-grid's density, the nearest quarantine site with free places, and the dashboard map's
layers, from the places read model (``projections.places``, ``projections.spatial``).

Household answers are scoped to the caller's jurisdiction and carry ids and micro-grids only
(no name, number or address). A household's exact point (its own sealed door, else its
building's) is shown, and audited (``PlacedHousehold.point``), only to the roles that may see
an address (``privacy.SEES["Household.address"]``); every other role gets it rounded to
0.001° (about 100 m), and its distance and whether it lies in the radius or polygon are
computed from that rounded point, so no sequence of questions narrows it further."""
