"""Representations of rodan-compat.md §2, one module per area."""
