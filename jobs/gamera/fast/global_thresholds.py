"""Gamera 4.1.0's histogram thresholds Tsai, Brink and Abutaleb: Gamera's levels, exactly, then comparisons.

Tsai and Brink choose one level from the 256-bin histogram, Abutaleb a pair
(grey level, 3×3 mean) from the joint 256 × 256 histogram, with Gamera's own
floating-point loops (``threshold.hpp``, ``binarization.hpp``) redone here in
the same order of IEEE operations (plain Python floats and sequential NumPy
accumulations, never pairwise sums) and the C library's logarithm where it
can decide the result, so the levels are Gamera's. The histograms cost one
pass over the page; the rest is independent of the image size.
"""

import math

import cv2
import numpy as np

from rodan.imaging import require_pixel_type

from . import grey_histogram


def _counts(grey):
    """The 256-bin histogram of an 8-bit image as a list of ints."""
    return grey_histogram(require_pixel_type(grey, "greyscale"))


def tsai_find_threshold(grey):
    """Gamera's ``tsai_moment_preserving_find_threshold``: 0-256, 256 when no level qualifies.

    W.-H. Tsai, "Moment-preserving thresholding: a new approach", CVGIP
    29:377-393, 1985. Gamera accumulates the first three moments of the
    normalised histogram, solves for the two representative levels and
    returns the first level whose cumulative share exceeds p0. A flat image
    (or rounding) makes p0 NaN or unreachable, and the loop runs off the end.
    """
    size = float(grey.shape[0] * grey.shape[1])
    p = [c / size for c in _counts(grey)]
    m1 = m2 = m3 = 0.0
    for i in range(256):
        m1 += i * p[i]
        m2 += (i * i) * p[i]
        m3 += (i * i * i) * p[i]
    with np.errstate(all="ignore"):
        m1, m2, m3 = np.float64(m1), np.float64(m2), np.float64(m3)
        cd = m2 - m1 * m1
        c0 = (-m2 * m2 + m1 * m3) / cd
        c1 = (-m3 + m2 * m1) / cd
        root = np.sqrt(c1 * c1 - 4.0 * c0)
        z0 = 0.5 * (-c1 - root)
        z1 = 0.5 * (-c1 + root)
        p0 = (z1 - m1) / (z1 - z0)
    criterion = 0.0
    for level in range(256):
        criterion += p[level]
        if criterion > p0:
            return level
    return 256


def tsai_threshold(grey):
    """Gamera's ``tsai_moment_preserving_threshold``: white where the pixel is above Tsai's level.

    Gamera turns a level of 255 into 0, and passes 256 through an 8-bit
    parameter, where it wraps to 0 as well.
    """
    level = tsai_find_threshold(grey)
    return grey > (0 if level >= 255 else level)


def _logs(values):
    """C's ``log`` of every element (``math.log`` calls it), in the array's shape."""
    return np.fromiter(map(math.log, values.ravel().tolist()), np.float64, values.size).reshape(values.shape)


def _entropy_terms(moments, pmf, levels, log, upper=False):
    """Gamera's tmp4 matrix: pmf[i] · (m[j] · log(m[j] / i) + i · log(1 / (m[j] / i))), 0 where m[j] or i is 0.

    With ``upper``, only the entries with i <= j, all that the diagonal of
    the column-wise cumulative sum reads: the logarithms are most of the cost.
    Also returns the sum of the products' sizes, pmf[i] · (m[j] · |log …| +
    i · |log …|), which bounds how far a last-bit change in the logarithms
    can move any sum of these terms.
    """
    usable = (levels[:, None] != 0) & (moments[None, :] != 0)
    if upper:
        usable &= levels[:, None] <= levels[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (moments[None, :] / levels[:, None])[usable]
    log_ratio = np.zeros((256, 256))
    log_inverse = np.zeros((256, 256))
    log_ratio[usable] = log(ratio)
    log_inverse[usable] = log(1.0 / ratio)
    terms = pmf[:, None] * (moments[None, :] * log_ratio + levels[:, None] * log_inverse)
    sizes = pmf[:, None] * (moments[None, :] * np.abs(log_ratio) + levels[:, None] * np.abs(log_inverse))
    return terms, sizes.sum()


def _brink_criterion(foreground, background, pmf, log):
    """Gamera's criterion per level (its tmpVec1) with the given logarithm, and the sum of the terms' sizes."""
    levels = np.arange(256, dtype=np.float64)
    diagonal = np.arange(256)
    forward_terms, forward_size = _entropy_terms(foreground, pmf, levels, log, upper=True)
    backward_terms, backward_size = _entropy_terms(background, pmf, levels, log)
    forward = np.cumsum(forward_terms, axis=0)
    backward = np.cumsum(backward_terms, axis=0)
    criterion = forward[diagonal, diagonal] + (backward[255] - backward[diagonal, diagonal])
    return criterion, forward_size + 2 * backward_size


#: A minimum found with NumPy's logarithm is trusted when the runner-up is further from it than this times the
#: terms' total size; a few ulps per logarithm (about 1e-15 of that size) cannot reorder the criteria then.
BRINK_TRUSTED_MARGIN = 1e-9


def brink_find_threshold(grey):
    """Gamera's Brink level (before its final +1): the minimum cross-entropy grey level.

    A. D. Brink and N. E. Pendock, "Minimum cross-entropy threshold
    selection", Pattern Recognition 29(1):179-188, 1996, as Gamera
    transcribes it from MATLAB: 256 × 256 matrices of terms, cumulative
    sums down the columns (sequential, as in its loops), the diagonal, and
    the first strict minimum over the levels where both moments are non-zero.

    NumPy's vectorised logarithm may differ from the C library's (which
    Gamera calls) in the last bits. So the level is first found with it, and
    kept when no other level comes anywhere near; otherwise (a near tie) the
    criterion is recomputed with the C library's ``log`` (``math.log``), a
    few times slower, and Gamera's rule decides.
    """
    counts = _counts(grey)
    inverse_total = 1.0 / sum(counts)
    pmf = np.array([c * inverse_total for c in counts])
    foreground = np.zeros(256)
    for i in range(1, 256):
        foreground[i] = i * pmf[i] + foreground[i - 1]
    background = foreground[255] - foreground
    candidates = (foreground != 0) & (background != 0)
    if not candidates.any():
        return 0
    criterion, scale = _brink_criterion(foreground, background, pmf, np.log)
    values = np.where(candidates, criterion, np.inf)
    level = int(np.argmin(values))
    runner_up = np.partition(values, 1)[1]
    if runner_up - values[level] > BRINK_TRUSTED_MARGIN * scale:
        return level
    criterion, _ = _brink_criterion(foreground, background, pmf, _logs)
    best, level = None, 0
    for i in np.flatnonzero(candidates).tolist():
        if best is None or criterion[i] < best:
            best, level = criterion[i], i
    return level


def brink_threshold(grey):
    """Gamera's ``brink_threshold``: white where the pixel is above Brink's level + 1."""
    return grey > brink_find_threshold(grey) + 1


#: Pixel counts below this are exact in OpenCV's float32 histograms; larger images are counted by NumPy.
CALCHIST_EXACT_LIMIT = 2**24

#: Gamera's initial Phi maximum in Abutaleb's search: DBL_MIN, the smallest positive normal double.
_DBL_MIN = np.finfo(np.float64).tiny


def gamera_mean3(grey):
    """Gamera's ``mean`` filter as Abutaleb calls it: 3×3, borders reflected, (sum · (1/9) + 0.5) truncated.

    The window sums are integers (exact in OpenCV and in Gamera's double),
    so a table over the 2296 possible sums reproduces Gamera's rounding.
    Images under 3 pixels in either direction come back unchanged.
    """
    if min(grey.shape) < 3:
        return grey.copy()
    sums = cv2.boxFilter(grey, cv2.CV_16U, (3, 3), normalize=False, borderType=cv2.BORDER_REFLECT_101)
    table = (np.arange(9 * 255 + 1, dtype=np.float64) * (1.0 / 9.0) + 0.5).astype(np.uint8)
    return table[sums]


def abutaleb_threshold(grey):
    """Gamera's ``abutaleb_threshold``: black where the pixel and its 3×3 mean are both at most the chosen pair.

    A. S. Abutaleb, "Automatic thresholding of gray-level pictures using
    two-dimensional entropy", CVGIP 47:22-32, 1989, as Gamera computes it:
    the joint histogram of grey level s and mean t, normalised by
    multiplying with 1 / area, its cumulative sums P and entropies H (rows
    accumulated left to right, then added to the row above, sequentially),
    and the first (s-major order) maximum of
    log(P·(1 - P)) + H / P + (H_end - H) / (1 - P) over 1e-6 < P < 1 - 1e-6
    that exceeds DBL_MIN; (0, 0) when none does.
    """
    require_pixel_type(grey, "greyscale")
    average = gamera_mean3(grey)
    if grey.size < CALCHIST_EXACT_LIMIT:
        counts = cv2.calcHist([average, np.ascontiguousarray(grey)], [0, 1], None, [256, 256], [0, 256, 0, 256])
        counts = counts.astype(np.int64)
    else:
        counts = np.bincount(average.ravel().astype(np.int64) * 256 + grey.ravel(), minlength=65536).reshape(256, 256)
    p = counts * (1.0 / (grey.shape[0] * grey.shape[1]))  # p[t, s]: t the mean, s the grey level
    cumulative = np.cumsum(np.cumsum(p, axis=1), axis=0)
    terms = np.zeros((256, 256))
    occupied = p != 0
    terms[occupied] = p[occupied] * _logs(p[occupied])
    entropy = np.cumsum(np.cumsum(-terms, axis=1), axis=0)
    valid = (cumulative > 1e-6) & ((1.0 - cumulative) > 1e-6)
    chosen, h = cumulative[valid], entropy[valid]
    phi = np.full((256, 256), -np.inf)
    phi[valid] = _logs(chosen * (1.0 - chosen)) + h / chosen + (entropy[255, 255] - h) / (1.0 - chosen)
    by_level = phi.T.ravel()  # s-major, as Gamera's loops
    best = int(np.argmax(by_level))
    level, mean_level = divmod(best, 256) if by_level[best] > _DBL_MIN else (0, 0)
    return ~((grey <= level) & (average <= mean_level))
