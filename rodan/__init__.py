"""A Rodan-compatible workflow system for music-document images."""

__version__ = "0.1.0"
# The Rodan release whose interface this package reproduces (shown by the API root).
RODAN_API_VERSION = "v3.1.0"
