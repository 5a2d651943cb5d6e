"""Vertical run lengths, the primitive every staff algorithm here is built on.

Images are 2-D boolean *ink* arrays: True is black. ``as_ink`` also accepts
numeric arrays (non-zero is black, Gamera's one-bit convention) and Gamera
images (anything with ``to_numpy``).

Runs are computed column by column on the transposed image, so that the runs
of one column are contiguous and sorted by their top row; every function
returns them in that order.
"""

import numpy as np


def as_ink(image):
    """A C-contiguous boolean array, True = black, from an ink array or a Gamera one-bit image."""
    if hasattr(image, "to_numpy"):  # a Gamera image: black pixels are 1
        image = image.to_numpy()
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D one-bit image, got an array of shape {array.shape}")
    return np.ascontiguousarray(array if array.dtype == bool else array != 0)


def vertical_runs(ink, black=True):
    """The vertical runs of black (or white) pixels: arrays ``(column, top, bottom)``, bottom exclusive.

    Every column is padded with a pixel of the other colour at both ends, so
    its colour changes alternate start, end, start, ... in scan order.
    """
    height = ink.shape[0]
    padded = np.zeros((ink.shape[1], height + 2), dtype=bool)
    padded[:, 1:-1] = ink.T if black else ~ink.T
    edges = np.flatnonzero(padded[:, 1:] != padded[:, :-1])  # row-major over (column, row + 1)
    starts, ends = edges[0::2], edges[1::2]
    return starts // (height + 1), starts % (height + 1), ends % (height + 1)


def run_length_map(ink):
    """For every black pixel the length of the vertical black run through it; 0 on white pixels."""
    _, top, bottom = vertical_runs(ink)
    lengths = (bottom - top).astype(np.int32)
    column_major = np.zeros(ink.shape[::-1], dtype=np.int32)
    column_major[ink.T] = np.repeat(lengths, lengths)
    return column_major.T


def _most_frequent(lengths, default):
    if lengths.size == 0:
        return default
    return int(np.argmax(np.bincount(lengths)[1:]) + 1)


def staffline_height(ink):
    """The most frequent vertical black run length: the staff-line thickness (Fujinaga 2004)."""
    _, top, bottom = vertical_runs(as_ink(ink))
    return _most_frequent(bottom - top, 1)


def staffspace_height(ink):
    """The most frequent vertical white run length, page-border runs excluded: the staff space."""
    ink = as_ink(ink)
    _, top, bottom = vertical_runs(ink, black=False)
    inner = (top > 0) & (bottom < ink.shape[0])
    return _most_frequent((bottom - top)[inner], 1)


def run_mask(ink, selected, column, top, bottom):
    """The pixels of the ``selected`` runs (a boolean array over the runs) as an image-shaped mask."""
    height, width = ink.shape
    delta = np.zeros(width * (height + 1) + 1, dtype=np.int8)
    base = column[selected] * (height + 1)
    delta[base + top[selected]] = 1  # runs of one colour never touch: no index is hit twice
    delta[base + bottom[selected]] = -1
    mask = np.cumsum(delta[:-1], dtype=np.int8).reshape(width, height + 1)[:, :height] > 0
    return mask.T


def runs_touching(mask, column, top, bottom):
    """For each run, whether it contains at least one pixel of ``mask``."""
    height = mask.shape[0]
    flat = np.zeros(mask.size + 1, dtype=bool)  # column-major, one spare pixel so every run end is an index
    flat[:-1] = mask.T.ravel()
    if column.size == 0:
        return np.zeros(0, dtype=bool)
    bounds = np.empty(2 * column.size, dtype=np.int64)
    bounds[0::2] = column * height + top
    bounds[1::2] = column * height + bottom
    return np.logical_or.reduceat(flat, bounds)[0::2]
