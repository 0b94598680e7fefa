"""Risk zoning around a case (三区划分) through the API: the zonings of a community in force now
or at a past time (``riskZones``), with each zone's area (GeoJSON, in the crs asked for), its
household count and its households as ids and micro-grids only (a point exact only for the
roles that see addresses, as ``graphql_api.geo`` shows one), and the mutations that draw the
zones, apply their measures, sweep a zone and lift them (``gridcore.zoning_commands``).

A community outside the caller's jurisdiction reads as missing: an empty list for the query,
``NotFoundProblem`` for a mutation. A caller below the community (a micro-grid's worker) reads
its zonings, with the households of their own micro-grids only."""
