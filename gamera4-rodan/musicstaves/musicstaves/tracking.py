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
    column: np.ndarray  # the column
    band_top: np.ndarray  # first row of the line at that column
    band_bottom: np.ndarray  # row after its last
    thickness: np.ndarray  # local line thickness there (median run length)
    spread: np.ndarray  # local upper line thickness (75th percentile of the run lengths)


def _line_samples(staves, shape):
    """Staff number, column and centre row of every column of every line inside the image."""
    staff_numbers, columns, centres = [], [], []
    for k, staff in enumerate(staves):
        for line in staff.lines:
            xs = np.arange(max(0, line.x0), min(shape[1], line.x1 + 1))
            staff_numbers.append(np.full(len(xs), k))
            columns.append(xs)
            centres.append(line.y_at(xs))
    if not staff_numbers:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(staff_numbers), np.concatenate(columns), np.concatenate(centres)


def _run_at(keys, bottom, stride, xs, ys):
    """Index of the run of column ``xs`` containing row ``ys``, or -1."""
    k = np.searchsorted(keys, xs * stride + ys, side="right") - 1
    k = np.clip(k, 0, len(keys) - 1)
    inside = (keys[k] // stride == xs) & (keys[k] % stride <= ys) & (bottom[k] > ys)
    return np.where(inside, k, -1)


def _blockwise(values, staff, columns, window, percentiles):
    """Percentiles of ``values`` (NaN = unknown) over each staff's lines together, in stretches of ``window`` columns.

    Pooling a staff's lines makes the estimate robust to a symbol that runs
    along one line (a beam, a ligature) for a whole stretch. Returns one
    array per percentile, interpolated between the stretches' centres (NaN
    on a staff with no known value).
    """
    block = staff * (1 + columns.max(initial=0) // window) + columns // window
    known = ~np.isnan(values)
    order = np.lexsort((values[known], block[known]))
    groups, first, count = np.unique(block[known][order], return_index=True, return_counts=True)
    sorted_values = values[known][order]
    centres = np.bincount(np.searchsorted(groups, block[known]), weights=columns[known]) / count
    group_staff = staff[known][order][first]
    results = []
    for percentile in percentiles:
        level = sorted_values[first + np.floor((count - 1) * percentile / 100).astype(int)]
        out = np.full(len(values), np.nan)
        for k in np.unique(group_staff):
            mine, where = group_staff == k, staff == k
            out[where] = np.interp(columns[where], centres[mine], level[mine])
        results.append(out)
    return results


def crossings(ink, staves, lh, ss, runs=None):
    """Where the found staff lines meet black runs, with each line's local thickness.

    The thickness at a column is the median (and 75th percentile), over the
    staff's lines in stretches of eight staff spaces interpolated between,
    of the length of the run through each line's centre, counting only runs
    up to three times the page's line height (longer ones belong to
    symbols). Wide stretches follow slow changes of thickness along a
    scanned staff without being swayed by symbols.
    """
    column, top, bottom = vertical_runs(ink) if runs is None else runs
    stride = ink.shape[0] + 1
    keys = column * stride + top
    staff_of, xs, centres = _line_samples(staves, ink.shape)
    if len(keys) == 0 or len(xs) == 0:
        empty = np.zeros(0, dtype=int)
        return Crossings(empty, empty, empty, empty, empty, empty)
    rows = np.clip(np.rint(centres).astype(int), 0, ink.shape[0] - 1)
    through = _run_at(keys, bottom, stride, xs, rows)
    length = np.where(through >= 0, bottom[through] - top[through], 0).astype(float)
    length[(through < 0) | (length > 3 * lh)] = np.nan
    thickness, upper = (np.rint(level) for level in _blockwise(length, staff_of, xs, max(3, 8 * ss), (50, 75)))
    thickness = np.where(np.isnan(thickness), lh, np.maximum(1, thickness)).astype(int)
    upper = np.where(np.isnan(upper), thickness, np.maximum(thickness, upper)).astype(int)
    band_top = np.floor(centres - (thickness - 1) / 2.0 + 0.5).astype(int)
    band_bottom = band_top + thickness
    first = np.searchsorted(column * stride + bottom, xs * stride + band_top, side="right")
    last = np.searchsorted(keys, xs * stride + band_bottom, side="left")
    count = np.maximum(0, last - first)
    sample = np.repeat(np.arange(len(xs)), count)
    run = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(first, count)
    return Crossings(run, xs[sample], band_top[sample], band_bottom[sample], thickness[sample], upper[sample])


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


def run_thickness(runs, found, default):
    """Per vertical run, the local upper thickness of the staff line it crosses (``default`` off the lines).

    Lets a remover built on one staff-line height for the page judge each
    run on a line by that line's thickness where the run is.
    """
    thickness = np.zeros(len(runs[0]), dtype=np.int64)
    np.maximum.at(thickness, found.run, found.spread)
    return np.where(thickness > 0, thickness, default)


def thickness_map(ink, runs, per_run):
    """Image of ``per_run`` values painted over each run's pixels (0 on white): per-pixel local thickness.

    In the narrowest unsigned type that holds the values (a byte a pixel for
    any real line), as the image is page-sized: widen before arithmetic.
    """
    _, top, bottom = runs
    column_major = np.zeros(ink.shape[::-1], dtype=np.min_scalar_type(max(0, int(per_run.max(initial=0)))))
    column_major[ink.T] = np.repeat(per_run, bottom - top)
    return column_major.T


def local_band(shape, found, margin=1):
    """Pixels within half the local upper thickness plus ``margin`` rows of a line's centre, where runs meet it.

    The band a remover treats as "on the line", as wide as the line is thick there.
    """
    centre = (found.band_top + found.band_bottom - 1) / 2.0
    half = found.spread // 2 + margin
    top = np.floor(centre - half + 0.5).astype(int)
    rows = top[:, None] + np.arange(2 * int(half.max(initial=0)) + 2)[None, :]
    inside = (rows < top[:, None] + 2 * half[:, None] + 1) & (rows >= 0) & (rows < shape[0])
    band = np.zeros(shape, dtype=bool)
    band[rows[inside], np.broadcast_to(found.column[:, None], rows.shape)[inside]] = True
    return band
