"""Staff finders: projection, Miyao, Dalitz. Each returns a list of ``Staff`` (top to bottom).

All take a one-bit image (see ``runs.as_ink``), ``num_lines`` (lines per
staff, 0 = the most frequent count found) and optionally the staff-line and
staff-space heights (estimated from the image when not given).
"""

import numpy as np
from ._scipy import ndimage

from .runs import as_ink, run_length_map, run_mask, staffline_height, staffspace_height, vertical_runs
from .staves import assemble, drop_duplicates, refine

EIGHT = np.ones((3, 3), dtype=bool)


def _heights(ink, lh, ss):
    return lh or staffline_height(ink), ss or staffspace_height(ink)


def thin_ink(ink, lh):
    """Black pixels whose vertical run is at most twice the staff-line height ("quasi-black" for lines)."""
    lengths = run_length_map(ink)
    return (lengths > 0) & (lengths <= 2 * lh)


def _column_centres_of(rows, cols, labels, width):
    """Per label and column the mean row of the pixels ``(rows, cols)``: (label, column, y) arrays, sorted."""
    keys = labels.astype(np.int64) * width + cols
    unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=rows)
    return unique // width, unique % width, sums / counts


def _split(label, cols, ys, count, min_width):
    """Fragments (columns, rows) of labels 1 .. ``count`` from sorted per-label column centres, at least ``min_width`` wide."""
    bounds = np.searchsorted(label, np.arange(1, count + 2))
    fragments = []
    for k in range(count):
        xs = cols[bounds[k] : bounds[k + 1]]
        if len(xs) and xs[-1] - xs[0] + 1 >= min_width:
            fragments.append((xs, ys[bounds[k] : bounds[k + 1]]))
    return fragments


def fragments_from_mask(mask, min_width, ink=None):
    """Fragments (columns, centre rows) of the 8-connected components of ``mask`` at least ``min_width`` wide.

    The centres are taken over the pixels of ``mask & ink`` when ``ink`` is
    given, so a mask that bridges gaps links pieces without moving them.
    """
    labels, count = ndimage.label(mask, structure=EIGHT)
    if count == 0:
        return []
    rows, cols = np.nonzero(mask if ink is None else mask & ink)
    return _split(*_column_centres_of(rows, cols, labels[rows, cols], mask.shape[1]), count, min_width)


def long_runs(mask, min_length, max_gap):
    """The horizontal runs of ``mask`` at least ``min_length`` long once gaps up to ``max_gap`` are bridged.

    Returned as a mask of the bridged runs, gaps filled. Bridging lets a
    staff line broken by white specks or crossing stems count as one run.
    """
    row, left, right = vertical_runs(mask.T)  # horizontal runs: (row, first column, end column), sorted
    if row.size == 0:
        return np.zeros_like(mask)
    starts = np.concatenate([[True], (row[1:] != row[:-1]) | (left[1:] - right[:-1] > max_gap)])
    first, last = np.flatnonzero(starts), np.append(np.flatnonzero(starts)[1:], row.size) - 1
    keep = right[last] - left[first] >= min_length
    return run_mask(mask.T, keep, row[first], left[first], right[last]).T


def line_fragments(candidates, ss):
    """Staff-line fragments from a mask of line-like pixels: long runs, tolerant to noise.

    Dalitz et al.'s long quasi-black runs (§3.1), made robust: a candidate
    pixel also counts for the rows just above and below (a line that wanders
    by a pixel stays one run), and gaps up to half a staff space are bridged
    (white specks, crossing stems). The fragments' positions come from the
    candidate pixels alone.
    """
    smeared = candidates.copy()
    smeared[1:] |= candidates[:-1]
    smeared[:-1] |= candidates[1:]
    bridged = long_runs(smeared, 2 * ss, max(2, ss // 2))
    return fragments_from_mask(bridged, 2 * ss, candidates)


def extend(staves, ink, lh):
    """Prolong each staff left and right while most of its lines go on as thin ink."""
    height, width = ink.shape
    reach = max(1, int(lh))
    for staff in staves:
        for direction in (-1, 1):
            ys = np.array([line.ys[0 if direction < 0 else -1] for line in staff.lines])
            x = (staff.x0 if direction < 0 else staff.x1) + direction
            added = []
            while 0 <= x < width:
                rows = np.clip(np.rint(ys).astype(int)[:, None] + np.arange(-reach, reach + 1)[None, :], 0, height - 1)
                hits = ink[rows, x]
                if hits.any(axis=1).sum() * 2 <= len(ys):
                    break
                offsets = np.arange(-reach, reach + 1)
                centre = np.where(hits.any(axis=1), (hits * offsets).sum(axis=1) / np.maximum(hits.sum(axis=1), 1), 0)
                ys = ys + centre
                added.append(ys)
                x += direction
            if added:
                extra = np.array(added).T  # lines × new columns, outward order
                for line, new in zip(staff.lines, extra):
                    if direction < 0:
                        line.ys = np.concatenate([new[::-1], line.ys])
                        line.x0 -= len(new)
                    else:
                        line.ys = np.concatenate([line.ys, new])
    return staves


def find_dalitz(ink, num_lines=0, staffline_height=None, staffspace_height=None):
    """Dalitz's finder: long quasi-black runs (noise-tolerant, see ``line_fragments``) linked into lines and staves.

    Dalitz, Droettboom, Pranzas, Fujinaga, "A comparative study of staff
    removal algorithms", IEEE TPAMI 30(5):753-766, 2008, §3.1.
    """
    ink = as_ink(ink)
    lh, ss = _heights(ink, staffline_height, staffspace_height)
    fragments = line_fragments(thin_ink(ink, lh), ss)
    staves = assemble(fragments, lh, ss, num_lines)
    return drop_duplicates(extend(refine(staves, ink, lh), ink, lh))


def _strip_shift(projection, max_shift):
    """Rows a line drops from one strip's centre to the next's: the best correlation of neighbouring strips' profiles.

    Summed over all pairs of neighbouring strips, so the page's staff lines
    vote together; refined to a fraction of a row by a parabola through the
    best shift and its neighbours.
    """
    profile = projection.astype(np.int64)
    height = profile.shape[0]
    shifts = np.arange(-max_shift, max_shift + 1)
    score = np.array([(profile[max(0, -s) : height - max(0, s), :-1] * profile[max(0, s) : height + min(0, s), 1:]).sum() for s in shifts], dtype=float)
    best = int(np.argmax(score))
    if score[best] == score[max_shift]:  # no line, or no better than level: keep the strips as they are
        return 0.0
    if 0 < best < len(shifts) - 1:
        left, centre, right = score[best - 1 : best + 2]
        curvature = left - 2 * centre + right
        return shifts[best] + (0.5 * (left - right) / curvature if curvature < 0 else 0.0)
    return float(shifts[best])


def find_projection(ink, num_lines=0, staffline_height=None, staffspace_height=None):
    """Projection finder: peaks of the horizontal projection of thin ink in vertical strips, along the page's slope.

    The classic method (Fujinaga 2004, "Staff detection and removal"),
    made robust to rotation and curvature: the page is cut into strips of
    four staff distances, the dominant slope is estimated from how the
    strips' profiles line up (``_strip_shift``), and each strip is projected
    along it, so a tilted thin line still makes one sharp peak. Each peak
    (widened by a line height) becomes a fragment of the columns where its
    rows hold thin ink, at the centre of that ink: a short ledger line is
    short support, not a strip's worth, and the fragments are linked and
    tracked as Dalitz's are.
    """
    ink = as_ink(ink)
    lh, ss = _heights(ink, staffline_height, staffspace_height)
    thin = thin_ink(ink, lh)
    height, page_width = ink.shape
    width = 4 * (lh + ss)
    count = max(1, page_width // width)
    strip_of = np.minimum(np.arange(page_width) // width, count - 1)
    strip_width = np.bincount(strip_of, minlength=count)
    centre = (np.bincount(strip_of, weights=np.arange(page_width), minlength=count) / strip_width)[strip_of]
    rows, cols = np.nonzero(thin)
    strips = strip_of[cols]
    flat = np.bincount(rows * count + strips, minlength=height * count).reshape(height, count)
    slope = _strip_shift(flat, int(0.1 * width)) / width if count > 1 else 0.0
    margin = int(np.ceil(abs(slope) * width / 2)) + 1
    level = rows + margin - np.rint(slope * (cols - centre[cols])).astype(np.int64)  # the row at the strip's centre
    projection = np.bincount(level * count + strips, minlength=(height + 2 * margin) * count).reshape(-1, count)
    peak = projection >= 0.25 * strip_width
    band = ndimage.binary_dilation(peak, structure=np.ones((2 * max(1, int(lh)) + 1, 1), dtype=bool))
    labels, found = ndimage.label(band, structure=np.array([[0, 1, 0]] * 3))
    label = labels[level, strips]
    keep = label > 0
    fragments = _split(*_column_centres_of(rows[keep], cols[keep], label[keep], page_width), found, 1)
    staves = assemble(fragments, lh, ss, num_lines)
    return drop_duplicates(extend(refine(staves, ink, lh), ink, lh))


def find_miyao(ink, num_lines=0, scanlines=20, blackness=0.8, tolerance=-1, staffline_height=None, staffspace_height=None):
    """Miyao's finder: staff-line candidates on equidistant scan columns, linked by blackness.

    Miyao and Okamoto, "Stave extraction for printed music scores using DP
    matching", JACIII 8(2), 2004. On every ``scanlines``-th column the
    candidates are black runs of about the staff-line height (± ``tolerance``,
    -1 = half that height) that have another candidate one staff distance
    (± a quarter staff space) above or below. Candidates of neighbouring
    scan columns are matched one to one, preferring small vertical shifts,
    when at least ``blackness`` of the straight segment between them is black.
    """
    ink = as_ink(ink)
    lh, ss = _heights(ink, staffline_height, staffspace_height)
    tol = max(1, (lh + 1) // 2) if tolerance < 0 else tolerance
    distance = lh + ss
    spacing = max(tol + 1, ss // 4)  # lines that wander on their own (y-variation) vary their distance
    scan = np.arange(scanlines // 2, ink.shape[1], max(1, scanlines))
    column, top, bottom = vertical_runs(ink[:, scan])
    good = np.abs(bottom - top - lh) <= tol
    column, centre = column[good], (top[good] + bottom[good] - 1) / 2.0
    points = []
    for k in range(len(scan)):
        ys = centre[column == k]
        gaps = np.abs(ys[None, :] - ys[:, None] - distance)
        points.append(ys[(gaps <= spacing).any(axis=0) | (gaps <= spacing).any(axis=1)])
    successor = []
    dilated = ndimage.binary_dilation(ink, structure=np.array([[1], [1], [1]], dtype=bool))
    for k in range(len(scan) - 1):
        a, b = points[k], points[k + 1]
        pairs = np.argwhere(np.abs(b[None, :] - a[:, None]) <= 0.2 * (scan[k + 1] - scan[k]) + tol)
        link = np.full(len(a), -1)
        if len(pairs):
            t = np.linspace(0.0, 1.0, scan[k + 1] - scan[k] + 1)
            xs = scan[k] + np.arange(len(t))
            rows = np.rint(a[pairs[:, 0], None] + t[None, :] * (b[pairs[:, 1], None] - a[pairs[:, 0], None])).astype(int)
            black = dilated[rows, xs[None, :]].mean(axis=1)
            ok = black >= blackness
            cost = np.abs(b[pairs[:, 1]] - a[pairs[:, 0]]) - black
            used = set()
            for p in np.argsort(np.where(ok, cost, np.inf), kind="stable"):
                if not ok[p]:
                    break
                i, j = pairs[p]
                if link[i] < 0 and j not in used:
                    link[i] = j
                    used.add(j)
        successor.append(link)
    fragments = []
    started = [np.ones(len(p), dtype=bool) for p in points]
    for k, link in enumerate(successor):
        started[k + 1][link[link >= 0]] = False
    for k in range(len(scan)):
        for i in np.flatnonzero(started[k]):
            xs, ys, j, kk = [scan[k]], [points[k][i]], i, k
            while kk < len(successor) and successor[kk][j] >= 0:
                j = successor[kk][j]
                kk += 1
                xs.append(scan[kk])
                ys.append(points[kk][j])
            if len(xs) >= 2:
                fragments.append((np.array(xs), np.array(ys)))
    staves = assemble(fragments, lh, ss, num_lines)
    return drop_duplicates(extend(refine(staves, ink, lh), ink, lh))
