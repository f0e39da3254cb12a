"""Kuota application code (everything app.py wires together)."""
