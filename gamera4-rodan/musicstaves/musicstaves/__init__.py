"""MusicStaves: staff finding and staff-line removal on NumPy one-bit images (True = black).

A Python 3 re-implementation, on NumPy and SciPy, of the algorithms of the
MusicStaves toolkit for Gamera (Dalitz, Droettboom, Pranzas, Fujinaga 2008).
Gamera one-bit images are accepted too (see ``runs.as_ink``).
"""

from .finders import find_dalitz, find_miyao, find_projection
from .removers import (
    Removal,
    remove_carter,
    remove_fujinaga,
    remove_line_tracking,
    remove_roach_tatem,
    remove_simple,
    remove_skeleton,
)
from .runs import as_ink, staffline_height, staffspace_height
from .staves import Staff, StaffLine, staves_to_json

__version__ = "0.1.0"

FINDERS = {"Projection": find_projection, "Miyao": find_miyao, "Dalitz": find_dalitz}
REMOVERS = {
    "Line Tracking": remove_line_tracking,
    "Roach-Tatem": remove_roach_tatem,
    "Fujinaga": remove_fujinaga,
    "Carter": remove_carter,
    "Simple": remove_simple,
    "Skeleton": remove_skeleton,
}

__all__ = [
    "FINDERS",
    "REMOVERS",
    "Removal",
    "Staff",
    "StaffLine",
    "as_ink",
    "find_dalitz",
    "find_miyao",
    "find_projection",
    "remove_carter",
    "remove_fujinaga",
    "remove_line_tracking",
    "remove_roach_tatem",
    "remove_simple",
    "remove_skeleton",
    "staffline_height",
    "staffspace_height",
    "staves_to_json",
]
