"""MusicStaves jobs: Rodan's Miyao staff finder and staff-line removal, on the project's MusicStaves toolkit."""

__version__ = "0.1.0"
