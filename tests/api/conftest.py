"""API tests over a real HTTP server (uvicorn on a free loopback port; the worlds are built by
``tests.api.test_api_access``): access by role and jurisdiction, every mutation, limits,
subscriptions, fuzzing."""
