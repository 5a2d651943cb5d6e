"""Rodan's Gamera catalogue (rodan-compat.md §7.1): same names, ports, settings and pixels.

Jobs run on the fast NumPy/OpenCV engine where one exists (``fast``) and
on Gamera 4.1.0 otherwise; ``RODAN_GAMERA_ENGINE=gamera`` runs every job on
Gamera (``engine.py``). The package imports without Gamera.
"""

__version__ = "0.1.0"
