"""Staff-line removers. Each keeps the symbol pixels that cross a staff line.

Every remover takes a one-bit image (``runs.as_ink``), optionally the staves
already found and the staff-line / staff-space heights, and returns a
``Removal``: the image without staff lines (True = black) and the staves
used. The run-length symbol criterion shared by several of them (Dalitz et
al. 2008, §3.2) is: a vertical black run through a staff line that is longer
than twice the staff-line height belongs to a symbol crossing the line.
Line Tracking, Simple, Carter, Fujinaga and Roach-Tatem measure a line's
thickness where it is (``tracking``) rather than once per page, as scans
thicken and thin lines along their length.
"""

from dataclasses import dataclass

import numpy as np
from ._scipy import ndimage

from . import runs
from .finders import EIGHT, find_dalitz, find_projection, line_fragments, thin_ink
from .runs import as_ink, run_mask, runs_touching, vertical_runs
from .staves import assemble, refine
from .tracking import crossings, line_pixels, local_band, run_thickness, thickness_map


@dataclass
class Removal:
    image: np.ndarray  # ink without staff lines
    staves: list
    staffline_height: int
    staffspace_height: int


def _prepare(ink, staves, num_lines, lh, ss, finder=find_dalitz):
    ink = as_ink(ink)
    lh = lh or runs.staffline_height(ink)
    ss = ss or runs.staffspace_height(ink)
    if staves is None:
        staves = finder(ink, num_lines, lh, ss)
    return ink, staves, lh, ss


def line_band(shape, staves, half):
    """Pixels within ``half`` rows of a staff line's centre, column by column."""
    band = np.zeros(shape, dtype=bool)
    offsets = np.arange(-half, half + 1)
    for staff in staves:
        for line in staff.lines:
            xs = np.arange(line.x0, line.x1 + 1)
            keep = (xs >= 0) & (xs < shape[1])
            rows = np.rint(line.ys[keep]).astype(int)[:, None] + offsets[None, :]
            cols = np.broadcast_to(xs[keep][:, None], rows.shape)
            inside = (rows >= 0) & (rows < shape[0])
            band[rows[inside], cols[inside]] = True
    return band


def remove_line_tracking(ink, staves=None, num_lines=0, staffline_height=None, staffspace_height=None):
    """Line tracking with the run-length symbol criterion (Dalitz et al. 2008, "LineTrackingHeight").

    Staff lines are found with Dalitz's finder and tracked column by column
    (each line's y snapped to the thin black run it passes through); at each
    column the runs through the line are removed unless longer than the
    line's local thickness allows (its 75th percentile plus half its median,
    at least 2: twice the height on a clean page). A longer run that stays on one side of the
    line (a symbol touching it) loses only the line's rows on the far side.
    """
    ink, staves, lh, ss = _prepare(ink, staves, num_lines, staffline_height, staffspace_height)
    page_runs = vertical_runs(ink)
    found = crossings(ink, staves, lh, ss, page_runs)
    staff = line_pixels(ink, page_runs, found, found.spread + np.maximum(2, found.thickness // 2))
    return Removal(ink & ~staff, staves, lh, ss)


def remove_simple(ink, staves=None, num_lines=0, staffline_height=None, staffspace_height=None):
    """Simple run-length removal: runs no longer than the line's thickness + 1 near a found line.

    The baseline of the MusicStaves toolkit ("simple"): staves from the
    projection finder, and every vertical black run within one staff-line
    height of a line is removed if it is at most one pixel longer than the
    line is thick there (its local upper thickness, ``tracking.crossings``;
    the page's line height off the tracked lines), with no look at what the
    run belongs to.
    """
    ink, staves, lh, ss = _prepare(ink, staves, num_lines, staffline_height, staffspace_height, find_projection)
    page_runs = vertical_runs(ink)
    limit = run_thickness(page_runs, crossings(ink, staves, lh, ss, page_runs), lh) + 1
    column, top, bottom = page_runs
    selected = runs_touching(line_band(ink.shape, staves, lh), column, top, bottom) & (bottom - top <= limit)
    return Removal(ink & ~run_mask(ink, selected, column, top, bottom), staves, lh, ss)


def remove_fujinaga(ink, staves=None, num_lines=0, staffline_height=None, staffspace_height=None):
    """Fujinaga's removal: thin connected components lying on staff lines are removed.

    Fujinaga, "Staff detection and removal", in George (ed.), Visual
    Perception of Music Notation, 2004. Vertical runs longer than twice the
    staff-line height are set aside as symbols; of the remaining ink, each
    8-connected component is examined: one that lies mostly on the found staff
    lines (projection finder) is removed where it is on a line, one that lies
    mostly off them (a thin symbol) is kept whole. "On a line" is within
    half the line's local thickness (``tracking.local_band``) plus a row of
    its centre, so thick stretches of a line go whole.
    """
    ink, staves, lh, ss = _prepare(ink, staves, num_lines, staffline_height, staffspace_height, find_projection)
    thin = thin_ink(ink, lh)
    labels, count = ndimage.label(thin, structure=EIGHT)
    band = local_band(ink.shape, crossings(ink, staves, lh, ss))
    on_line = np.bincount(labels[thin & band], minlength=count + 1)
    total = np.bincount(labels[thin], minlength=count + 1)
    staff_component = on_line >= 0.5 * np.maximum(total, 1)
    staff_component[0] = False
    return Removal(ink & ~(staff_component[labels] & band), staves, lh, ss)


def remove_carter(ink, staves=None, num_lines=0, staffline_height=None, staffspace_height=None):
    """Carter's line-adjacency-graph removal.

    Carter and Bacon, "Automatic recognition of printed music", in Structured
    Document Image Analysis, 1992. Vertical runs are the nodes of a line
    adjacency graph; runs joined one to one across neighbouring columns, of
    similar length, form *sections*, and every junction (a run touching
    several runs of a column, or a run of very different length, as where a
    stem or notehead crosses the line) starts a new section. Thin sections
    lying on a found staff line (Dalitz finder) are the staff; junction
    sections are kept as symbol pixels. "Thin" is judged against the line's
    local thickness where each run crosses it (``tracking.crossings``).
    """
    ink, staves, lh, ss = _prepare(ink, staves, num_lines, staffline_height, staffspace_height)
    page_runs = vertical_runs(ink)
    column, top, bottom = page_runs
    thick = run_thickness(page_runs, crossings(ink, staves, lh, ss, page_runs), lh)
    stride = ink.shape[0] + 2
    start_keys, end_keys = column * stride + top, column * stride + bottom
    length = bottom - top

    def overlapping(shift):  # the runs of column + shift overlapping each run: index range [first, last)
        first = np.searchsorted(end_keys, (column + shift) * stride + top, side="right")
        last = np.searchsorted(start_keys, (column + shift) * stride + bottom, side="left")
        return first, last

    right_first, right_last = overlapping(1)
    left_first, left_last = overlapping(-1)
    one_to_one = (right_last - right_first == 1) & (np.abs(length - length[np.minimum(right_first, len(length) - 1)]) <= max(1, lh // 2))
    successor = np.minimum(right_first, len(length) - 1)
    one_to_one &= left_last[successor] - left_first[successor] == 1
    head = np.arange(len(length))
    head[successor[one_to_one]] = np.flatnonzero(one_to_one)
    while True:  # pointer jumping: every run learns the first run of its section
        jumped = head[head]
        if np.array_equal(jumped, head):
            break
        head = jumped
    centre = line_band(ink.shape, staves, max(0, lh // 2))
    touching = runs_touching(centre, column, top, bottom)
    members = np.bincount(head, minlength=len(length))
    on_line = np.bincount(head, weights=touching, minlength=len(length))
    pixels = np.bincount(head, weights=length, minlength=len(length))
    allowed = np.bincount(head, weights=1.5 * thick + 1, minlength=len(length))
    staff_section = (on_line >= 0.5 * np.maximum(members, 1)) & (pixels <= allowed)
    return Removal(ink & ~run_mask(ink, staff_section[head] & touching & (length <= 2 * thick), column, top, bottom), staves, lh, ss)


def _run_lengths_along(line, position):
    """Length of the run through each pixel, pixels given by the line they lie on and their position on it.

    Pixels must come in row-major order, where positions already ascend
    within a line; a stable sort by line (a linear radix sort for 16-bit
    keys) then puts every run's pixels next to each other.
    """
    keys = line - line.min(initial=0)
    order = np.argsort(keys.astype(np.uint16) if keys.max(initial=0) < 1 << 16 else keys, kind="stable")
    line, position = line[order], position[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (line[1:] != line[:-1]) | (position[1:] != position[:-1] + 1)
    run = np.cumsum(starts) - 1
    lengths = np.empty(len(order), dtype=np.int64)
    lengths[order] = np.bincount(run)[run]
    return lengths


def _directional_run_lengths(ink):
    """Run lengths through each black pixel along 0°, 90°, 45° and 135° (Roach and Tatem's vector field)."""
    rows, cols = np.nonzero(ink)
    horizontal = _run_lengths_along(rows, cols)
    vertical = _run_lengths_along(cols, rows)
    diagonal = np.maximum(_run_lengths_along(cols - rows, rows), _run_lengths_along(cols + rows, rows))
    return rows, cols, horizontal, vertical, diagonal


def remove_roach_tatem(ink, staves=None, num_lines=0, staffline_height=None, staffspace_height=None):
    """Roach and Tatem's pixel classification by local stroke direction and thickness.

    Roach and Tatem, "Using domain knowledge in low-level visual processing to
    interpret handwritten music: an experiment", Pattern Recognition 21(1),
    1988. For every black pixel the longest black run through it among four
    directions gives the stroke direction, and the vertical run its
    thickness. Pixels of horizontal, thin strokes are line pixels; staff lines
    are found among them (fragments linked into staves) and their pixels
    removed, except where a steeper stroke (a diagonal run longer than
    ``2·lh + 2``, a vertical run longer than ``2·lh``) crosses the line. A
    thin pixel on a found line that shares its vertical run with line
    pixels (a bump on a rough edge, whose longest run is vertical) goes too.
    Once the lines are found, "thin" is judged against the local thickness
    of the line a pixel's vertical run crosses (``tracking.crossings``), so
    thick stretches of a line are not taken for strokes.
    """
    ink = as_ink(ink)
    lh = staffline_height or runs.staffline_height(ink)
    ss = staffspace_height or runs.staffspace_height(ink)
    rows, cols, horizontal, vertical, diagonal = _directional_run_lengths(ink)
    thin = (vertical <= 2 * lh) & (diagonal <= 2 * lh + 2)
    line_pixel = thin & (horizontal >= np.maximum(vertical, diagonal))
    candidates = np.zeros(ink.shape, dtype=bool)
    candidates[rows[line_pixel], cols[line_pixel]] = True
    if staves is None:
        staves = refine(assemble(line_fragments(candidates, ss), lh, ss, num_lines), ink, lh)
    band = line_band(ink.shape, staves, lh)
    page_runs = vertical_runs(ink)
    column, top, bottom = page_runs
    local = thickness_map(ink, page_runs, run_thickness(page_runs, crossings(ink, staves, lh, ss, page_runs), lh))[rows, cols].astype(np.int64)
    thin = (vertical <= 2 * local) & (diagonal <= 2 * local + 2)
    candidates[rows, cols] = thin & (horizontal >= np.maximum(vertical, diagonal))
    on_lines = run_mask(ink, runs_touching(candidates & band, column, top, bottom), column, top, bottom)
    staff = np.zeros(ink.shape, dtype=bool)
    staff[rows[thin], cols[thin]] = True
    return Removal(ink & ~(staff & on_lines & band), staves, lh, ss)


def _zhang_suen_tables():
    """Deletion tables of Zhang-Suen thinning for both sub-iterations, indexed by the 8-neighbour code.

    Bit k of the code is neighbour P(k+2) of Zhang and Suen, "A fast parallel
    algorithm for thinning digital patterns", CACM 27(3), 1984: N, NE, E, SE,
    S, SW, W, NW.
    """
    codes = np.arange(256)
    p = [(codes >> k) & 1 for k in range(8)]  # p[0] = P2 (N) ... p[7] = P9 (NW)
    black = sum(p)
    transitions = sum((p[k] == 0) & (p[(k + 1) % 8] == 1) for k in range(8))
    base = (black >= 2) & (black <= 6) & (transitions == 1)
    n, e, s, w = p[0], p[2], p[4], p[6]
    first = base & (n * e * s == 0) & (e * s * w == 0)
    second = base & (n * e * w == 0) & (n * s * w == 0)
    return first, second


def _neighbour_codes(flat, pixels, offsets):
    """The 8-neighbour code of each pixel of a padded, flattened one-bit image (bit k = neighbour k)."""
    code = np.zeros(len(pixels), dtype=np.uint8)
    for bit, offset in enumerate(offsets):
        code |= flat[pixels + offset] << np.uint8(bit)
    return code


def _distinct(pixels, slot):
    """``pixels`` without repeats, in linear time: ``slot`` is a scratch array over all pixels."""
    order = np.arange(len(pixels), dtype=slot.dtype)
    slot[pixels] = order
    return pixels[slot[pixels] == order]


def skeletonize(ink, passes=None):
    """Zhang-Suen skeleton of the black pixels and the skeleton's neighbour counts.

    Only the shrinking border is examined at each sub-iteration (a pixel
    with black N, E, S and W neighbours is never deletable, and becomes so
    only when a neighbour goes), which is what makes a full page affordable.
    ``passes`` limits the thinning: after k passes every stroke
    up to about 2k pixels thick is one pixel wide, thicker blobs keep a
    core. Returns the skeleton and, per pixel, its number of black
    8-neighbours in the skeleton (0 on white pixels).
    """
    height, width = ink.shape
    stride = width + 2
    flat = np.zeros((height + 2) * stride, dtype=np.uint8)
    flat.reshape(height + 2, stride)[1:-1, 1:-1] = ink
    offsets = np.array([-stride, -stride + 1, 1, stride + 1, stride, stride - 1, -1, -stride - 1])
    image = flat.reshape(height + 2, stride).view(bool)
    inner = image[1:-1, 1:-1] & image[:-2, 1:-1] & image[2:, 1:-1] & image[1:-1, :-2] & image[1:-1, 2:]
    border = image.copy()
    border[1:-1, 1:-1] &= ~inner  # deletion needs a white N, E, S or W neighbour
    front = np.flatnonzero(border)
    tables = _zhang_suen_tables()
    slot = np.empty(flat.size, dtype=np.int32)
    done, idle = 0, 0
    while idle < 2 and (passes is None or done < 2 * passes):
        doomed = front[tables[done % 2][_neighbour_codes(flat, front, offsets)]]
        flat[doomed] = 0
        touched = (doomed[:, None] + offsets[None, :]).ravel()
        front = _distinct(np.concatenate([front[flat[front] == 1], touched[flat[touched] == 1]]), slot)
        idle = 0 if doomed.size else idle + 1
        done += 1
    skeleton = np.flatnonzero(flat)
    degree = np.zeros_like(flat)
    degree[skeleton] = np.bitwise_count(_neighbour_codes(flat, skeleton, offsets))
    unpad = lambda image: image.reshape(height + 2, stride)[1:-1, 1:-1]  # noqa: E731
    return unpad(flat).astype(bool), unpad(degree)


def _neighbour_count(image, rows, cols):
    """Number of black 8-neighbours of the pixels (rows, cols) of a one-bit image."""
    padded = np.pad(image, 1)
    return sum(padded[rows + 1 + dy, cols + 1 + dx].astype(np.uint8) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)


def _branches(skeleton, rows, cols, degree):
    """The skeleton cut at its junctions: labels of its branches and, per label, its pixel count, box height and width."""
    branch = degree <= 2
    on_branch = np.zeros(skeleton.shape, dtype=bool)
    on_branch[rows[branch], cols[branch]] = True
    labels, count = ndimage.label(on_branch, structure=EIGHT)
    lab, r, c = labels[rows[branch], cols[branch]], rows[branch], cols[branch]
    top, left = np.full(count + 1, np.iinfo(np.int64).max), np.full(count + 1, np.iinfo(np.int64).max)
    bottom, right = np.full(count + 1, -1), np.full(count + 1, -1)
    np.minimum.at(top, lab, r)
    np.maximum.at(bottom, lab, r)
    np.minimum.at(left, lab, c)
    np.maximum.at(right, lab, c)
    return labels, np.bincount(lab, minlength=count + 1), bottom - top + 1, right - left + 1


def _spurs(skeleton, rows, cols, degree, length):
    """Which skeleton pixels (rows, cols) lie on spurs: end branches of at most ``length`` pixels (noise on a line's edge)."""
    labels, size, _, _ = _branches(skeleton, rows, cols, degree)
    on_branch = labels[rows, cols]
    ends = np.bincount(on_branch[degree == 1], minlength=len(size))
    spur = (ends == 1) & (size <= length)  # a short piece with free ends on both sides is kept
    spur[0] = False
    return spur[on_branch]


def remove_skeleton(ink, staves=None, num_lines=0, staffline_height=None, staffspace_height=None):
    """Skeleton-based removal (Dalitz et al. 2008, "Skeleton").

    The page is thinned (Zhang-Suen) until strokes as thick as a staff line
    are one pixel wide (thicker blobs keep a core, which the staff branches
    end at just as at their skeleton); spurs of up to a line height (noise
    on the lines' edges) are pruned; the skeleton is cut at its branching
    points into branches. Long, nearly horizontal branches are staff-line
    segments, linked into staves; every nearly horizontal branch on a found
    line is staff, and so are the junctions it reaches. A vertical run is removed when a staff branch passes
    through it and it is no longer than twice the staff-line height; at
    crossings the skeleton branches, so symbol pixels keep their own
    (non-staff) branches and stay.
    """
    ink = as_ink(ink)
    lh = staffline_height or runs.staffline_height(ink)
    ss = staffspace_height or runs.staffspace_height(ink)
    skeleton, degree = skeletonize(ink, passes=lh // 2 + 2)
    rows, cols = np.nonzero(skeleton)
    spur = _spurs(skeleton, rows, cols, degree[rows, cols], max(2, lh))
    skeleton[rows[spur], cols[spur]] = False
    rows, cols = rows[~spur], cols[~spur]
    labels, _, height, width = _branches(skeleton, rows, cols, _neighbour_count(skeleton, rows, cols))
    flat = height <= max(2, lh) + 0.1 * width
    flat[0] = False
    candidates = flat[labels]
    candidates[rows, cols] |= _neighbour_count(candidates, rows, cols) > 0  # the junctions between staff branches
    if staves is None:
        wide = flat & (width >= max(2, lh))
        staves = refine(assemble(line_fragments(wide[labels], ss), lh, ss, num_lines), ink, lh)
    candidates &= line_band(ink.shape, staves, max(1, lh // 2 + 1))
    column, top, bottom = vertical_runs(ink)
    selected = runs_touching(candidates, column, top, bottom) & (bottom - top <= 2 * lh)
    return Removal(ink & ~run_mask(ink, selected, column, top, bottom), staves, lh, ss)
