"""End-to-end tests: real processes (dev stack, packaging)."""
