"""Reflex pages, one module per area."""
