"""The Rodan-compatible REST API (rodan-compat.md §1-2), built on DRF.

Serializers, permissions, filters and views live in their own modules; views
stay thin and leave the engine's work to ``rodan.engine``.
"""
