"""Contract tests against the providers' real sandboxes: skipped unless their credentials are in the environment."""
