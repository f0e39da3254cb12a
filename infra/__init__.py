"""Tooling for running and deploying Kuota: packaging and the local dev stack."""
