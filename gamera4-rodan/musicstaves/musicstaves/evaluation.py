"""Error measures for staff removal and staff finding, as defined in the literature.

Staff removal (Dalitz, Droettboom, Pranzas, Fujinaga, "A comparative study
of staff removal algorithms", IEEE TPAMI 30(5), 2008, §4.2, and the
MusicStaves toolkit's ``pixel_error``, ``segment_error`` and
``interruption_error``; the ICDAR 2011/2013 staff-removal competitions add
precision, recall and F). The positive class is *staff pixels*; a pixel the
algorithm removed is predicted staff.

- precision, recall, F-measure of the removed pixels against the ground-truth staff pixels;
- pixel error rate: (missed staff pixels + wrongly removed pixels) / black pixels of the page;
- segmentation-region error: the 8-connected *staff segments* of the
  ground-truth staff image and of the removed pixels are linked where they
  overlap; each connected group of linked segments is a segmentation
  region, and the error is the share of regions that are not exactly one
  ground-truth segment matched to one removed segment (missed, false
  positive, split, merged);
- staff-line interruption error: walking along every true staff line, an
  interruption is a stretch of columns with no staff pixel within two rows
  of the line; interruptions of the ground truth and of the removed pixels
  are linked where they overlap, each kept at most once; the error is
  (interruptions left unlinked + links dropped) / ground-truth interruptions.

Staff finding: staves and lines found against the drawn count, and the
line-position error in units of the staff-line height, per matched line the
median over its columns of the distance to the centre of the ground-truth
staff pixels in that column.
"""

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .finders import EIGHT


def pixel_scores(ink, ground_truth_staff, result):
    """Precision, recall, F-measure and pixel error rate of a removal result."""
    removed = ink & ~result
    true_positive = np.count_nonzero(removed & ground_truth_staff)
    false_positive = np.count_nonzero(removed & ~ground_truth_staff)
    false_negative = np.count_nonzero(ground_truth_staff & ~removed)
    precision = true_positive / max(1, true_positive + false_positive)
    recall = true_positive / max(1, true_positive + false_negative)
    f_measure = 2 * precision * recall / max(1e-12, precision + recall)
    error = (false_positive + false_negative) / max(1, np.count_nonzero(ink))
    return {"precision": precision, "recall": recall, "f_measure": f_measure, "pixel_error": error}


def region_error(truth, result):
    """Share of segmentation regions that are not one-to-one matches of 8-connected components."""
    truth_labels, truth_count = ndimage.label(truth, structure=EIGHT)
    result_labels, result_count = ndimage.label(result, structure=EIGHT)
    count = truth_count + result_count
    if count == 0:
        return 0.0
    both = (truth_labels > 0) & (result_labels > 0)
    pairs = np.unique(np.stack([truth_labels[both] - 1, truth_count + result_labels[both] - 1]), axis=1)
    overlaps = coo_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(count, count))
    regions, region = connected_components(overlaps, directed=False)
    is_truth = np.arange(count) < truth_count
    truth_per_region = np.bincount(region, weights=is_truth, minlength=regions)
    result_per_region = np.bincount(region, weights=~is_truth, minlength=regions)
    wrong = (truth_per_region != 1) | (result_per_region != 1)
    return float(wrong.sum() / regions)


def _runs(flags):
    """Maximal runs of True in a 1-D boolean array: (starts, stops), stops exclusive."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _matched(g_starts, g_stops, s_starts, s_stops):
    """Size of a largest one-to-one matching of overlapping intervals (greedy by end, optimal for intervals)."""
    used = np.zeros(len(s_starts), dtype=bool)
    matched = 0
    for k in np.argsort(g_stops):
        free = np.flatnonzero(~used & (s_starts < g_stops[k]) & (s_stops > g_starts[k]))
        if free.size:
            used[free[np.argmin(s_stops[free])]] = True
            matched += 1
    return matched


def _line_interruptions(truth, removed, xs, ys, reach=2):
    """(unlinked interruptions, dropped links, ground-truth interruptions) along one staff line."""
    rows = np.clip(np.rint(ys).astype(int)[:, None] + np.arange(-reach, reach + 1)[None, :], 0, truth.shape[0] - 1)
    g_gap = ~truth[rows, xs[:, None]].any(axis=1)
    s_gap = ~removed[rows, xs[:, None]].any(axis=1)
    g_starts, g_stops = _runs(g_gap)
    s_starts, s_stops = _runs(s_gap)
    unlinked = dropped = 0
    starts, stops = _runs(g_gap | s_gap)  # clusters of overlapping interruptions
    for start, stop in zip(starts, stops):
        g = (g_starts >= start) & (g_starts < stop)
        s = (s_starts >= start) & (s_starts < stop)
        if g.sum() + s.sum() == 1:
            unlinked += 1
            continue
        links = int(((g_starts[g, None] < s_stops[None, s]) & (g_stops[g, None] > s_starts[None, s])).sum())
        dropped += links - _matched(g_starts[g], g_stops[g], s_starts[s], s_stops[s])
    return unlinked, dropped, len(g_starts)


def interruption_error(ground_truth_staff, removed, lines):
    """Dalitz's staff-line interruption error along the true staff ``lines`` (0 = perfect; may exceed 1).

    ``lines`` are ``StaffLine`` skeletons of the lines as drawn (a page
    generator knows them exactly): walking along what a finder reports
    would make the measure depend on that finder.
    """
    unlinked = dropped = truth = 0
    for line in lines:
        xs = np.arange(max(0, line.x0), min(ground_truth_staff.shape[1], line.x1 + 1))
        u, d, t = _line_interruptions(ground_truth_staff, removed, xs, line.y_at(xs))
        unlinked, dropped, truth = unlinked + u, dropped + d, truth + t
    return (unlinked + dropped) / max(1, truth)


def removal_scores(ink, ground_truth_staff, result, lines):
    """Every staff-removal measure for one page, as a dict; ``lines`` are the true staff-line skeletons."""
    removed = ink & ~result
    scores = pixel_scores(ink, ground_truth_staff, result)
    scores["segmentation_error"] = region_error(ground_truth_staff, removed)
    scores["interruption_error"] = interruption_error(ground_truth_staff, removed, lines)
    return scores


def finder_scores(staves, ground_truth_staff, staffline_height, staves_drawn, lines_per_staff):
    """Staves and lines found, and line-position errors (mean and max over the matched lines) in staff-line heights.

    A found line is matched when ground-truth staff pixels lie within two
    line heights of it in at least half its columns; only matched lines
    count as found and have a position error, so a missed or misplaced line
    lowers "lines found" instead of making the error infinite. Found lines
    matching nothing (a ledger-line row taken for a staff line) are counted
    as ``false_lines``; a staff counts as found when most of its lines match.
    """
    height = ground_truth_staff.shape[0]
    reach = max(2, int(2 * staffline_height))
    errors, staves_found, false_lines = [], 0, 0
    for staff in staves:
        matched = 0
        for line in staff.lines:
            xs = np.arange(max(0, line.x0), min(ground_truth_staff.shape[1], line.x1 + 1))
            ys = line.y_at(xs)
            rows = np.clip(np.rint(ys).astype(int)[:, None] + np.arange(-reach, reach + 1)[None, :], 0, height - 1)
            hits = ground_truth_staff[rows, xs[:, None]]
            seen = hits.any(axis=1)
            if 2 * seen.sum() < max(1, len(xs)):
                false_lines += 1
                continue
            matched += 1
            centres = (hits * rows).sum(axis=1)[seen] / hits.sum(axis=1)[seen]
            errors.append(float(np.median(np.abs(centres - ys[seen]))) / staffline_height)
        staves_found += 2 * matched > len(staff.lines)
    return {
        "staves_found": staves_found,
        "staves_drawn": staves_drawn,
        "lines_found": len(errors),
        "lines_drawn": staves_drawn * lines_per_staff,
        "false_lines": false_lines,
        "mean_position_error": float(np.mean(errors)) if errors else float("nan"),
        "max_position_error": float(np.max(errors)) if errors else float("nan"),
    }
