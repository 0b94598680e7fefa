"""The GraphQL API: a strawberry schema over the read models (queries) and the gridcore
application (mutations), served as an ASGI app (``graphql_api.app.create_app``).

Layout (after the PyCon Italia backend): one folder per area with ``types.py``, ``queries.py``
and ``mutations.py``; ``schema.py`` merges them; ``context.py`` carries the application, the
read models, the caller and the per-request DataLoaders; ``scope.py`` decides what lies in the
caller's jurisdiction. The API runs no SQL of its own: every read is a typed query of the read
model that owns the table (``projections.grid_rollup.nodes``, ``household_timeline.timelines``,
...; ``projections.queries`` for reads across read models), which the loaders and resolvers
call.
"""
