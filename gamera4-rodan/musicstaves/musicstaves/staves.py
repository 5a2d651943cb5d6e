"""Staves as found on a page, and how line fragments are assembled into them.

A ``StaffLine`` holds a y-position (float, pixel centre) for every column
from ``x0`` to ``x1`` inclusive: Gamera's "skeleton" representation, dense.
A ``Staff`` is its lines from top to bottom; ``polygon`` gives its outline.

Every finder produces *fragments* (short pieces of line: columns and
y-positions, possibly sparse) and hands them to ``assemble``, which links
them horizontally into lines and groups vertically equidistant lines into
staves, in the manner of Dalitz's staff finder (Dalitz, Droettboom, Pranzas
and Fujinaga, "A comparative study of staff removal algorithms", IEEE TPAMI
30(5), 2008, §3.1: link long quasi-black-run fragments, then group lines).
"""

from dataclasses import dataclass, field

import numpy as np

from .runs import vertical_runs


@dataclass
class StaffLine:
    x0: int
    ys: np.ndarray  # float y-centre for each column x0 .. x0 + len(ys) - 1

    @property
    def x1(self):
        return self.x0 + len(self.ys) - 1

    def y_at(self, xs):
        """The y-position at columns ``xs``, held constant beyond the line's ends."""
        return np.interp(xs, np.arange(self.x0, self.x1 + 1), self.ys)

    def to_dict(self, step=1):
        xs = np.arange(self.x0, self.x1 + 1, step)
        if xs[-1] != self.x1:
            xs = np.append(xs, self.x1)
        return {"points": [[int(x), round(float(y), 2)] for x, y in zip(xs, self.y_at(xs))]}


@dataclass
class Staff:
    lines: list = field(default_factory=list)

    @property
    def x0(self):
        return min(line.x0 for line in self.lines)

    @property
    def x1(self):
        return max(line.x1 for line in self.lines)

    def polygon(self, margin=0.0, step=10):
        """The outline: the top line raised by ``margin`` left to right, the bottom line lowered, back."""
        xs = np.arange(self.x0, self.x1 + 1, step)
        if xs[-1] != self.x1:
            xs = np.append(xs, self.x1)
        top = self.lines[0].y_at(xs) - margin
        bottom = self.lines[-1].y_at(xs) + margin
        upper = [[int(x), int(round(y))] for x, y in zip(xs, top)]
        lower = [[int(x), int(round(y))] for x, y in zip(xs[::-1], bottom[::-1])]
        return upper + lower

    def to_dict(self, step=10):
        return {"lines": [line.to_dict(step) for line in self.lines]}


def staves_to_json(staves, staffline_height, staffspace_height, step=10):
    """A JSON-serialisable description of found staves (the jobs' 'staff positions' output)."""
    return {
        "staffline_height": int(staffline_height),
        "staffspace_height": int(staffspace_height),
        "staves": [staff.to_dict(step) for staff in staves],
    }


def _nearby_pairs(x0, x1, start_level, end_level, max_gap, max_dy):
    """Pairs ``(i, j)``, in row-major order, that may link: j starts within ``max_gap`` after i ends, at a level within ``max_dy``.

    A superset of the links ``_link`` allows, found without a matrix over
    all pairs (which grows with the square of the fragments, a page's noise
    included): the starts are bucketed by column in cells ``max_gap`` wide
    and sorted by level (the row less the page's slope times the column) in
    each, so every end looks only at the levels near its own in two cells.
    """
    span = max(float(max_gap), 1.0)
    margin = max_dy + 1.0  # a pixel beyond the bound: rounding never loses a pair
    low, ptp = start_level.min(), float(np.ptp(start_level))
    stride = ptp + 2 * margin + 1.0  # keys of one cell stay apart from the next's
    key = np.floor(x0 / span) * stride + (start_level - low)
    order = np.argsort(key, kind="stable")
    key = key[order]
    firsts, lasts = [], []
    for cell in (np.floor(x1 / span), np.floor(x1 / span) + 1):  # x1 < x0 <= x1 + max_gap: the end's cell or the next
        level = cell * stride + (end_level - low)
        firsts.append(np.searchsorted(key, np.maximum(level - margin, cell * stride - 0.5), side="left"))
        lasts.append(np.searchsorted(key, np.minimum(level + margin, cell * stride + ptp + 0.5), side="right"))
    first, last, end = np.concatenate(firsts), np.concatenate(lasts), np.tile(np.arange(len(x1)), 2)
    count = np.maximum(0, last - first)
    i = np.repeat(end, count)
    j = order[np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(first, count)]
    row_major = np.lexsort((j, i))
    return i[row_major], j[row_major]


def _link(fragments, max_gap, max_dy):
    """Chains of fragment indices, left to right, linking each end to the best start that follows it.

    The start is predicted from the end along the page's dominant slope (the
    length-weighted median slope of the fragments), so rotated pages link as
    well as straight ones.
    """
    count = len(fragments)
    if count == 0:
        return []
    x0 = np.array([f[0][0] for f in fragments], dtype=float)
    x1 = np.array([f[0][-1] for f in fragments], dtype=float)
    y0 = np.array([f[1][0] for f in fragments])
    y1 = np.array([f[1][-1] for f in fragments])
    widths = x1 - x0
    slopes = np.divide(y1 - y0, widths, out=np.zeros(count), where=widths > 0)
    order = np.argsort(slopes)
    cumulative = np.cumsum(widths[order])
    slope = slopes[order][np.searchsorted(cumulative, cumulative[-1] / 2)] if cumulative[-1] > 0 else 0.0
    i, j = _nearby_pairs(x0, x1, y0 - slope * x0, y1 - slope * x1, max_gap, max_dy + 0.1 * max_gap)
    gap = x0[j] - x1[i]  # from the end of i to the start of j
    dy = np.abs(y0[j] - y1[i] - slope * gap)
    allowed = (gap > 0) & (gap <= max_gap) & (dy <= max_dy + 0.1 * gap)
    i, j, gap, dy = i[allowed], j[allowed], gap[allowed], dy[allowed]
    cost = dy + 0.02 * gap
    successor = np.full(count, -1)
    has_predecessor = np.zeros(count, dtype=bool)
    for k in np.argsort(cost, kind="stable"):
        if successor[i[k]] < 0 and not has_predecessor[j[k]]:
            successor[i[k]] = j[k]
            has_predecessor[j[k]] = True
    chains = []
    for start in np.flatnonzero(~has_predecessor):
        chain = [start]
        while successor[chain[-1]] >= 0:
            chain.append(successor[chain[-1]])
        chains.append(chain)
    return chains


def _merge(pieces):
    """One dense line from pieces ``[(xs, ys), ...]``: averaged where they overlap, interpolated between."""
    xs = np.concatenate([p[0] for p in pieces])
    ys = np.concatenate([p[1] for p in pieces])
    columns, inverse = np.unique(xs, return_inverse=True)
    means = np.bincount(inverse, weights=ys) / np.bincount(inverse)
    dense = np.arange(columns[0], columns[-1] + 1)
    return StaffLine(int(columns[0]), np.interp(dense, columns, means)), len(columns)


def _median_distance(upper, lower):
    """Median of ``lower - upper`` over their common columns, and the number of common columns."""
    start, stop = max(upper.x0, lower.x0), min(upper.x1, lower.x1)
    if stop < start:
        return np.inf, 0
    columns = np.arange(start, stop + 1)
    return float(np.median(lower.y_at(columns) - upper.y_at(columns))), stop - start + 1


def _rows(lines, distance, tolerance):
    """Groups of vertically linked lines, each line with its row number (0 = top) within the group.

    Two overlapping lines are neighbours when one lies ``distance`` ±
    ``tolerance`` below the other; pieces of one broken staff line get the
    same row through their neighbours.
    """
    count = len(lines)
    medians = np.array([np.median(line.ys) for line in lines])
    x0 = np.array([line.x0 for line in lines])
    x1 = np.array([line.x1 for line in lines])
    near = (np.abs(medians[None, :] - medians[:, None] - distance) <= 2 * distance) & (
        np.minimum(x1[:, None], x1[None, :]) >= np.maximum(x0[:, None], x0[None, :])
    )
    neighbours = [[] for _ in range(count)]
    for a, b in zip(*np.nonzero(near)):
        d, overlap = _median_distance(lines[a], lines[b])
        if overlap and abs(d - distance) <= tolerance:
            neighbours[a].append((b, 1))
            neighbours[b].append((a, -1))
    row = {}
    groups = []
    for seed in np.argsort(-(x1 - x0)):
        if seed in row:
            continue
        row[seed], members, queue = 0, [seed], [seed]
        while queue:
            a = queue.pop()
            for b, step in neighbours[a]:
                if b not in row:
                    row[b] = row[a] + step
                    members.append(b)
                    queue.append(b)
        low = min(row[m] for m in members)
        groups.append([(m, row[m] - low) for m in members])
    return groups


def _staves_of_group(pieces):
    """Runs of consecutive well-supported rows of one group: lists of (line, support), top to bottom.

    A row's support is the number of columns where some fragment saw it;
    rows with less than 40 % of the group's best support (ledger lines, text
    baselines) separate staves.
    """
    rows = {}
    for row, piece in pieces:
        rows.setdefault(row, []).append(piece)
    merged = {row: _merge(ps) for row, ps in rows.items()}
    strongest = max(support for _, support in merged.values())
    runs, current = [], []
    for row in sorted(merged):
        if merged[row][1] < 0.4 * strongest or (current and row != current[-1] + 1):
            if current:
                runs.append(current)
            current = []
        if merged[row][1] >= 0.4 * strongest:
            current.append(row)
    if current:
        runs.append(current)
    return [[merged[row] for row in run] for run in runs]


def _best_window(lines, count):
    """The ``count`` consecutive lines with the most support."""
    supports = [sum(support for _, support in lines[k : k + count]) for k in range(len(lines) - count + 1)]
    start = int(np.argmax(supports))
    return lines[start : start + count]


def _complete(staff_lines):
    """Extend every line to the staff's full width, following the mean shape of the lines that are there."""
    x0 = min(line.x0 for line in staff_lines)
    x1 = max(line.x1 for line in staff_lines)
    columns = np.arange(x0, x1 + 1)
    longest = max(staff_lines, key=lambda line: len(line.ys))
    offsets, covered, shifted = [], [], np.full((len(staff_lines), len(columns)), np.nan)
    for k, line in enumerate(staff_lines):
        offset, overlap = _median_distance(longest, line)
        if not overlap:
            offset = float(np.median(line.ys) - np.median(longest.ys))
        inside = (columns >= line.x0) & (columns <= line.x1)
        shifted[k, inside] = line.ys - offset
        offsets.append(offset)
        covered.append(inside)
    present = ~np.isnan(shifted)
    shape = np.nansum(shifted, axis=0) / np.maximum(present.sum(axis=0), 1)
    known = present.any(axis=0)
    shape = np.interp(columns, columns[known], shape[known])
    completed = []
    for line, offset, inside in zip(staff_lines, offsets, covered):
        ys = shape + offset
        ys[inside] = line.ys
        completed.append(StaffLine(int(x0), ys))
    return completed


def assemble(fragments, staffline_height, staffspace_height, num_lines=0, min_length=None):
    """Staves (top to bottom) from line fragments ``[(xs, ys), ...]`` (xs ascending)."""
    distance = staffline_height + staffspace_height
    fragments = [f for f in fragments if len(f[0])]
    chains = _link(fragments, max_gap=8 * distance, max_dy=max(2.0, staffline_height))
    min_length = 3 * distance if min_length is None else min_length
    pieces = [(np.concatenate([fragments[k][0] for k in c]), np.concatenate([fragments[k][1] for k in c])) for c in chains]
    pieces = [p for p in pieces if p[0][-1] - p[0][0] + 1 >= min_length]
    if not pieces:
        return []
    lines = [_merge([p])[0] for p in pieces]
    found = []
    for group in _rows(lines, distance, max(2.0, 0.25 * distance)):
        found.extend(_staves_of_group([(row, pieces[k]) for k, row in group]))
    if num_lines <= 0:  # automatic: the most frequent line count of at least three
        counts = np.bincount([len(run) for run in found], minlength=4)
        if counts[3:].sum() == 0:
            return []
        num_lines = 3 + int(np.argmax(counts[3:]))
    staves = [Staff(_complete([line for line, _ in _best_window(run, num_lines)])) for run in found if len(run) >= num_lines]
    staves.sort(key=lambda staff: float(np.median(staff.lines[0].ys)))
    return staves


def _overlap(a, b):
    """Whether staves ``a`` and ``b`` share most of their columns and overlap vertically there."""
    start, stop = max(a.x0, b.x0), min(a.x1, b.x1)
    if stop - start + 1 < 0.5 * min(a.x1 - a.x0 + 1, b.x1 - b.x0 + 1):
        return False
    columns = np.arange(start, stop + 1)
    a_top, a_bottom = np.median(a.lines[0].y_at(columns)), np.median(a.lines[-1].y_at(columns))
    b_top, b_bottom = np.median(b.lines[0].y_at(columns)), np.median(b.lines[-1].y_at(columns))
    return a_top <= b_bottom and b_top <= a_bottom


def drop_duplicates(staves):
    """The staves, each found once: of staves overlapping one another the one with most lines, then widest, is kept.

    Pieces of one staff that could not be linked (a strongly curved staff)
    become two staves, which the extension to the staff's ends makes
    coincide; real staves never overlap.
    """
    kept = []
    for staff in sorted(staves, key=lambda s: (-len(s.lines), s.x0 - s.x1)):
        if not any(_overlap(staff, other) for other in kept):
            kept.append(staff)
    return sorted(kept, key=lambda staff: float(np.median(staff.lines[0].ys)))


def refine(staves, ink, staffline_height):
    """Snap each line's y, column by column, to the centre of the nearest thin black run.

    Thin means at most twice the staff-line height; columns with no such run
    within a staff-line height keep the assembled position. This is the
    tracking step that makes sparse finders (projection, Miyao) as precise as
    dense ones.
    """
    column, top, bottom = vertical_runs(ink)
    stride = ink.shape[0] + 1
    keys = column * stride + top
    reach = max(1, int(staffline_height))
    for staff in staves:
        for line in staff.lines:
            xs = np.arange(line.x0, line.x1 + 1)
            ys = np.rint(line.ys).astype(np.int64)
            above = np.searchsorted(keys, xs * stride + ys, side="right") - 1  # the run starting at or above y
            best_gap = np.full(len(xs), np.inf)
            best_centre = line.ys.copy()
            for run in (above, above + 1):
                run = np.clip(run, 0, len(keys) - 1)
                gap = np.maximum(top[run] - ys, ys - (bottom[run] - 1)).clip(min=0)
                usable = (column[run] == xs) & (bottom[run] - top[run] <= 2 * staffline_height) & (gap <= reach) & (gap < best_gap)
                best_gap = np.where(usable, gap, best_gap)
                best_centre = np.where(usable, (top[run] + bottom[run] - 1) / 2.0, best_centre)
            line.ys = best_centre
    return staves
