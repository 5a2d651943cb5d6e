"""Error measures for staff removal and staff finding, as defined in the literature.

Staff removal (Dalitz, Droettboom, Pranzas, Fujinaga, "A comparative study
of staff removal algorithms", IEEE TPAMI 30(5), 2008, §4; and the ICDAR
2011/2013 staff-removal competitions): the positive class is *staff pixels*.
A pixel the algorithm removed is predicted staff.

- precision, recall, F-measure of the removed pixels against the ground-truth staff pixels;
- pixel error rate: misclassified black pixels / all black pixels of the page;
- segmentation-region error: the connected components of the ground truth's
  symbol image and of the result are linked where they overlap; each
  connected group of linked components is a *segmentation region*, and
  the error is the share of regions that are not exactly one ground-truth
  component matched to one result component (a symbol cut in two, two
  symbols merged, a left-over staff fragment, a lost symbol);
- staff-line interruption error: the same measure on the staff-only images
  (ground-truth staff pixels vs removed pixels), counting interrupted or
  merged staff-line segments.

Staff finding: staves and lines found against the drawn count, and the
line-position error in units of the staff-line height, per line the median
over its columns of the distance to the centre of the ground-truth staff
pixels in that column.
"""

import numpy as np
from scipy import ndimage

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
    """Share of segmentation regions that are not one-to-one matches of connected components."""
    truth_labels, truth_count = ndimage.label(truth, structure=EIGHT)
    result_labels, result_count = ndimage.label(result, structure=EIGHT)
    both = (truth_labels > 0) & (result_labels > 0)
    pairs = np.unique(np.stack([truth_labels[both], result_labels[both]]), axis=1)
    # Union-find over truth components 1..T and result components T+1..T+R.
    parent = np.arange(truth_count + result_count + 1)

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for t, r in pairs.T:
        a, b = root(t), root(truth_count + r)
        if a != b:
            parent[a] = b
    roots = np.array([root(k) for k in range(1, truth_count + result_count + 1)], dtype=np.int64)
    if roots.size == 0:
        return 0.0
    is_truth = np.arange(1, truth_count + result_count + 1) <= truth_count
    regions, inverse = np.unique(roots, return_inverse=True)
    truth_per_region = np.bincount(inverse, weights=is_truth)
    result_per_region = np.bincount(inverse, weights=~is_truth)
    wrong = (truth_per_region != 1) | (result_per_region != 1)
    return float(wrong.sum() / len(regions))


def removal_scores(ink, ground_truth_staff, result):
    """Every staff-removal measure for one page, as a dict."""
    scores = pixel_scores(ink, ground_truth_staff, result)
    scores["segmentation_error"] = region_error(ink & ~ground_truth_staff, result)
    scores["interruption_error"] = region_error(ground_truth_staff, ink & ~result)
    return scores


def finder_scores(staves, ground_truth_staff, staffline_height, staves_drawn, lines_per_staff):
    """Staves and lines found, and line-position errors (mean and max over lines) in staff-line heights."""
    lines = [line for staff in staves for line in staff.lines]
    height = ground_truth_staff.shape[0]
    reach = max(2, int(2 * staffline_height))
    errors = []
    for line in lines:
        xs = np.arange(max(0, line.x0), min(ground_truth_staff.shape[1], line.x1 + 1))
        ys = line.y_at(xs)
        rows = np.clip(np.rint(ys).astype(int)[:, None] + np.arange(-reach, reach + 1)[None, :], 0, height - 1)
        hits = ground_truth_staff[rows, xs[:, None]]
        seen = hits.any(axis=1)
        if not seen.any():
            errors.append(np.inf)
            continue
        centres = (hits * rows).sum(axis=1)[seen] / hits.sum(axis=1)[seen]
        errors.append(float(np.median(np.abs(centres - ys[seen]))) / staffline_height)
    return {
        "staves_found": len(staves),
        "staves_drawn": staves_drawn,
        "lines_found": len(lines),
        "lines_drawn": staves_drawn * lines_per_staff,
        "mean_position_error": float(np.mean(errors)) if errors else float("nan"),
        "max_position_error": float(np.max(errors)) if errors else float("nan"),
    }
