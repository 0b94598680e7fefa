"""Domain tests: the rules, the aggregates' decisions and the shape of the code (which layer
imports what, who records events, the documents' sketch). No store, no server, no broker:
``pytest tests/domain`` runs in seconds."""
