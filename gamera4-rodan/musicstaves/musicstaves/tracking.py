"""Following found staff lines column by column: the black runs each line passes through.

A page rarely has one line thickness: scans thicken and thin the lines
along their length. Removers that decide per column whether a vertical run
is staff or symbol therefore compare it with the line's *local* thickness
(the median length of the thin runs the line passes through nearby), and
cut a symbol that only touches a line from one side at the line's edge.
"""

from dataclasses import dataclass

import numpy as np
from .runs import run_mask, vertical_runs


@dataclass
class Crossings:
    """Every (line column, black run) pair where a run meets a line's band, with the line's local geometry."""

    run: np.ndarray  # index into the page's vertical runs
    band_top: np.ndarray  # first row of the line at that column
    band_bottom: np.ndarray  # row after its last
    thickness: np.ndarray  # local line thickness there (median run length)
    spread: np.ndarray  # local upper line thickness (80th percentile of the run lengths)


def _line_samples(staves, shape):
    """Line number, column and centre row of every column of every line inside the image."""
    numbers, columns, centres = [], [], []
    for k, line in enumerate(line for staff in staves for line in staff.lines):
        xs = np.arange(max(0, line.x0), min(shape[1], line.x1 + 1))
        numbers.append(np.full(len(xs), k))
        columns.append(xs)
        centres.append(line.y_at(xs))
    if not numbers:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(numbers), np.concatenate(columns), np.concatenate(centres)


def _run_at(keys, bottom, stride, xs, ys):
    """Index of the run of column ``xs`` containing row ``ys``, or -1."""
    k = np.searchsorted(keys, xs * stride + ys, side="right") - 1
    k = np.clip(k, 0, len(keys) - 1)
    inside = (keys[k] // stride == xs) & (keys[k] % stride <= ys) & (bottom[k] > ys)
    return np.where(inside, k, -1)


def _blockwise(values, numbers, window, percentiles):
    """Percentiles of ``values`` (NaN = unknown) over blocks of ``window`` samples along each line, interpolated between.

    Samples come line by line, each line's columns in order. Returns one
    array per percentile (NaN on a line with no known value).
    """
    position = np.arange(len(values)) - np.searchsorted(numbers, numbers)  # column index within its line
    block = numbers * (1 + len(values) // max(1, window)) + position // max(1, window)
    known = ~np.isnan(values)
    order = np.lexsort((values[known], block[known]))
    groups, first, count = np.unique(block[known][order], return_index=True, return_counts=True)
    sorted_values = values[known][order]
    centres = np.bincount(np.searchsorted(groups, block[known]), weights=position[known]) / count
    group_line = numbers[known][order][first]
    results = []
    for percentile in percentiles:
        level = sorted_values[first + np.floor((count - 1) * percentile / 100).astype(int)]
        out = np.full(len(values), np.nan)
        for k in np.unique(group_line):
            mine = group_line == k
            where = numbers == k
            out[where] = np.interp(position[where], centres[mine], level[mine])
        results.append(out)
    return results


def crossings(ink, staves, lh, ss, runs=None):
    """Where the found staff lines meet black runs, with each line's local thickness.

    The thickness at a column is the median (and 80th percentile), over
    stretches of eight staff spaces interpolated between, of the length of
    the run through the line's centre, counting only runs up to one and a
    half times the page's line height, at least two more pixels (longer ones
    belong to symbols). A wide window follows slow changes of thickness
    along a scanned line without being swayed by a symbol running along it
    (a ligature, a beam).
    """
    column, top, bottom = vertical_runs(ink) if runs is None else runs
    stride = ink.shape[0] + 1
    keys = column * stride + top
    numbers, xs, centres = _line_samples(staves, ink.shape)
    if len(keys) == 0 or len(xs) == 0:
        empty = np.zeros(0, dtype=int)
        return Crossings(empty, empty, empty, empty, empty)
    rows = np.clip(np.rint(centres).astype(int), 0, ink.shape[0] - 1)
    through = _run_at(keys, bottom, stride, xs, rows)
    length = np.where(through >= 0, bottom[through] - top[through], 0).astype(float)
    length[(through < 0) | (length > max(lh + 2, 1.5 * lh))] = np.nan
    thickness, upper = (np.rint(level) for level in _blockwise(length, numbers, max(3, 8 * ss), (50, 80)))
    thickness = np.where(np.isnan(thickness), lh, np.maximum(1, thickness)).astype(int)
    upper = np.where(np.isnan(upper), thickness, np.maximum(thickness, upper)).astype(int)
    band_top = np.floor(centres - (thickness - 1) / 2.0 + 0.5).astype(int)
    band_bottom = band_top + thickness
    first = np.searchsorted(column * stride + bottom, xs * stride + band_top, side="right")
    last = np.searchsorted(keys, xs * stride + band_bottom, side="left")
    count = np.maximum(0, last - first)
    sample = np.repeat(np.arange(len(xs)), count)
    run = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(first, count)
    return Crossings(run, band_top[sample], band_bottom[sample], thickness[sample], upper[sample])


def line_pixels(ink, runs, found, max_length):
    """The staff pixels of the crossings: whole runs up to ``max_length`` (one value per crossing), part of some longer ones.

    A longer run that goes beyond the line both above and below is a symbol
    crossing the line and is kept whole. One that starts or ends within the
    line is a symbol touching it: the symbol usually covers the near half
    of the line there, so the line's rows on the far side are staff.
    """
    column, top, bottom = runs
    k = found.run
    short = bottom[k] - top[k] <= max_length
    selected = np.zeros(len(top), dtype=bool)
    selected[k[short]] = True
    whole = run_mask(ink, selected, column, top, bottom)
    above = ~short & (top[k] < found.band_top) & (bottom[k] <= found.band_bottom)  # the symbol is above the line
    below = ~short & (bottom[k] > found.band_bottom) & (top[k] >= found.band_top)
    far = found.thickness // 2  # rows of the line beyond its middle, away from the symbol
    start = np.where(above, found.band_bottom - far, found.band_top)
    stop = np.where(above, found.band_bottom, found.band_top + far)
    one_sided = above | below
    start, stop = np.maximum(top[k], start)[one_sided], np.minimum(bottom[k], stop)[one_sided]
    k = k[one_sided]
    rows = start[:, None] + np.arange(max(1, int((stop - start).max(initial=1))))[None, :]
    inside = rows < stop[:, None]
    cols = np.broadcast_to(column[k][:, None], rows.shape)
    whole[rows[inside], cols[inside]] = True
    return whole
