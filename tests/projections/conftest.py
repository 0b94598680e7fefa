"""Read-model tests: the runner (exactly once, kill tests, a stuck read model isolated), each
read model against the application, and the read side's shape."""
