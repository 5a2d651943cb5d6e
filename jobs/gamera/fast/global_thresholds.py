"""Gamera 4.1.0's global thresholds Tsai and Brink: its threshold from the histogram, exactly, then one comparison.

Both choose one level from the 256-bin histogram with Gamera's own
floating-point loops (``threshold.hpp``, ``binarization.hpp``), redone here
in the same order of IEEE operations (plain Python floats and sequential
NumPy accumulations, never pairwise sums), so the level is Gamera's; the
page is then white where it is above that level. The histogram costs one
pass; the rest is independent of the image size.
"""

import math

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


def _entropy_terms(moments, pmf, levels, upper=False):
    """Gamera's tmp4 matrix: pmf[i] · (m[j] · log(m[j] / i) + i · log(1 / (m[j] / i))), 0 where m[j] or i is 0.

    With ``upper``, only the entries with i <= j, all that the diagonal of
    the column-wise cumulative sum reads: the logarithms are most of the cost.
    """
    usable = (levels[:, None] != 0) & (moments[None, :] != 0)
    if upper:
        usable &= levels[:, None] <= levels[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (moments[None, :] / levels[:, None])[usable]
    log_ratio = np.zeros((256, 256))
    log_inverse = np.zeros((256, 256))
    log_ratio[usable] = _logs(ratio)
    log_inverse[usable] = _logs(1.0 / ratio)
    return pmf[:, None] * (moments[None, :] * log_ratio + levels[:, None] * log_inverse)


def brink_find_threshold(grey):
    """Gamera's Brink level (before its final +1): the minimum cross-entropy grey level.

    A. D. Brink and N. E. Pendock, "Minimum cross-entropy threshold
    selection", Pattern Recognition 29(1):179-188, 1996, as Gamera
    transcribes it from MATLAB: 256 × 256 matrices of terms, cumulative
    sums down the columns (sequential, as in its loops), the diagonal, and
    the first strict minimum over the levels where both moments are non-zero.
    """
    counts = _counts(grey)
    inverse_total = 1.0 / sum(counts)
    pmf = np.array([c * inverse_total for c in counts])
    levels = np.arange(256, dtype=np.float64)
    foreground = np.zeros(256)
    for i in range(1, 256):
        foreground[i] = i * pmf[i] + foreground[i - 1]
    background = foreground[255] - foreground
    diagonal = np.arange(256)
    forward = np.cumsum(_entropy_terms(foreground, pmf, levels, upper=True), axis=0)
    criterion = forward[diagonal, diagonal]
    backward = np.cumsum(_entropy_terms(background, pmf, levels), axis=0)
    criterion = criterion + (backward[255] - backward[diagonal, diagonal])
    best, level = None, 0
    for i in range(256):
        if foreground[i] != 0 and background[i] != 0 and (best is None or criterion[i] < best):
            best, level = criterion[i], i
    return level


def brink_threshold(grey):
    """Gamera's ``brink_threshold``: white where the pixel is above Brink's level + 1."""
    return grey > brink_find_threshold(grey) + 1
