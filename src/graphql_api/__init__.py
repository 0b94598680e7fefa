"""The GraphQL API: a strawberry schema over the read models (queries) and the gridcore
application (mutations), served as an ASGI app (``graphql_api.app.create_app``).

Layout (after the PyCon Italia backend): one folder per area with ``types.py``, ``queries.py``
and ``mutations.py``; ``schema.py`` merges them; ``context.py`` carries the application, the
read models, the caller and the per-request DataLoaders; ``scope.py`` decides what lies in the
caller's jurisdiction; ``readmodel.py`` holds the batched SQL the loaders run.
"""
