"""Utility jobs: format conversions, Rodan's distributor, labeler and hello-world jobs."""

__version__ = "0.1.0"
