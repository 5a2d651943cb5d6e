"""Gamera 4.1.0's slow image operations on NumPy/OpenCV, pixel for pixel.

Every function here reproduces one Gamera plugin exactly, formulas as Gamera
implements them (its C++ headers in ``gamera/include/gamera/plugins/``), not
as the papers state them: window shapes and border handling, the order of
floating-point operations, integer wrap-around, tie rules. Gamera recomputes
each window's statistics per pixel; here window sums come from OpenCV
integral images and morphology (exact: integer sums, min and max), so a page
costs tens of milliseconds rather than seconds. ``tests/gamera`` checks
equality with Gamera itself.

Conventions: greyscale arrays are uint8; one-bit arrays are bool with True =
white (``rodan.imaging``), so Gamera's black pixels ("ink") are ``~onebit``.
"""

import math

import cv2
import numpy as np

from rodan.imaging import ImageError, require_pixel_type

from .components import remove_small_components


#: Pixel totals below this use OpenCV's int32 integral image (see ``_mean_and_variance``).
INT32_INTEGRAL_LIMIT = 2**31


def check_region(name, grey, region_size):
    """Gamera's own bound, 1 <= region_size <= the image's smaller side, as a clear ImageError.

    Both engines check it first, so a too-large region fails the same way on each.
    """
    if region_size < 1 or region_size > min(grey.shape):
        raise ImageError(
            f"{name}: region size {region_size} is out of range for a {grey.shape[1]}×{grey.shape[0]} image "
            f"(it must be between 1 and the image's smaller side, {min(grey.shape)})"
        )


def check_same_size(name, *arrays):
    """Images combined pixel by pixel must have one size; a clear ImageError otherwise."""
    sizes = [f"{array.shape[1]}×{array.shape[0]}" for array in arrays]
    if len(set(sizes)) > 1:
        raise ImageError(f"{name}: the input images must have the same size, got {', '.join(sizes)}")


def _window_sum(values, half, depth):
    """Sums over clipped (2·half+1)² windows: a box filter with zeros outside the image."""
    size = 2 * half + 1
    return cv2.boxFilter(values, depth, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT)


def _band(grey, lower_bound, upper_bound):
    """Gamera's global bounds: (white, band) where band marks the pixels the local threshold decides.

    Below ``lower_bound`` is black and at or above ``upper_bound`` white,
    whatever the window says, the lower bound tested first. On a scanned
    page most pixels are paper above the upper bound, so computing window
    statistics for the band alone is what makes the fast engine fast.
    """
    at_least_lower = grey >= lower_bound
    white = (grey >= upper_bound) & at_least_lower
    band = np.flatnonzero(at_least_lower & ~white)
    return white, band


def _clipped_windows(shape, half, index):
    """For flat pixel indices: the clipped windows [y-h, y+h] × [x-h, x+h] as integral-image corners, and their areas."""
    rows, cols = shape
    y, x = np.divmod(index, cols)
    top, bottom = np.maximum(y - half, 0), np.minimum(y + half, rows - 1) + 1
    left, right = np.maximum(x - half, 0), np.minimum(x + half, cols - 1) + 1
    stride = cols + 1
    corners = (bottom * stride + right, top * stride + right, bottom * stride + left, top * stride + left)
    return corners, (bottom - top) * (right - left)


def _window_total(integral, corners):
    """Sums over windows from an integral image (cv2.integral layout: one extra leading row and column)."""
    flat = integral.ravel()
    return flat[corners[0]] - flat[corners[1]] - flat[corners[2]] + flat[corners[3]]


def _mean_and_variance(grey, region_size, index):
    """Gamera's ``mean_filter`` and ``variance_filter`` (binarization.hpp) at the flat pixel ``index``.

    The window is [x-h, x+h] × [y-h, y+h] with h = region_size // 2, clipped to
    the image, so even sizes behave as the next odd one. Gamera sums in double;
    the sums of 8-bit values and of their squares are integers below 2^53, so
    the four-corner differences of integral images are the same exact numbers, and the remaining operations (``sum / area`` and
    ``sumsq / area - mean * mean``, in this order) are single IEEE operations
    that NumPy performs identically.
    """
    # OpenCV's int32 integral is twice as fast as its float64 one; it is exact while the
    # whole image sums below 2^31 (a page averaging under 246 at A4, 300 dpi).
    small_total = int(grey.sum(dtype=np.int64)) < INT32_INTEGRAL_LIMIT
    sums, squares = cv2.integral2(grey, sdepth=cv2.CV_32S if small_total else cv2.CV_64F, sqdepth=cv2.CV_64F)
    corners, area = _clipped_windows(grey.shape, region_size // 2, index)
    area = area.astype(np.float64)
    mean = _window_total(sums, corners).astype(np.float64) / area
    variance = _window_total(squares, corners) / area - mean * mean
    return mean, variance


def _local_threshold(grey, region_size, lower_bound, upper_bound, threshold_of):
    """White where grey > threshold_of(mean, variance) inside the bounds' band, Gamera's bounds outside.

    A NaN threshold (a variance rounding below zero) compares false, black, as in C++.
    """
    white, band = _band(grey, lower_bound, upper_bound)
    if band.size:
        mean, variance = _mean_and_variance(grey, region_size, band)
        with np.errstate(invalid="ignore"):
            white.ravel()[band] = grey.ravel()[band] > threshold_of(mean, variance)
    return white


def niblack_threshold(grey, region_size=15, sensitivity=-0.2, lower_bound=20, upper_bound=150):
    """Niblack's local threshold as Gamera computes it: mean + sensitivity · deviation.

    W. Niblack, *An Introduction to Digital Image Processing*, Prentice Hall,
    1986; Gamera's ``niblack_threshold`` with QGAR's two global bounds.
    """
    require_pixel_type(grey, "greyscale")
    check_region("Niblack threshold", grey, region_size)
    return _local_threshold(
        grey, region_size, lower_bound, upper_bound, lambda mean, variance: mean + sensitivity * np.sqrt(variance)
    )


def sauvola_threshold(grey, region_size=15, sensitivity=0.5, dynamic_range=128, lower_bound=20, upper_bound=150):
    """Sauvola's local threshold as Gamera 4.1.0 implements it.

    J. Sauvola and M. Pietikäinen, "Adaptive document image binarization",
    Pattern Recognition 33:225-236, 2000, define T = m · (1 + k · (s/R - 1)).
    Gamera computes T = m + (1 - k · (1 - s/R)): the mean *plus* a term
    between 1 - k and 1, so its threshold sits about one grey level above the
    local mean. Rodan workflows are tuned on that, so it is kept, operation
    for operation. The global bounds are QGAR's, as in Gamera.
    """
    require_pixel_type(grey, "greyscale")
    check_region("Sauvola threshold", grey, region_size)
    if dynamic_range == 0:
        raise ImageError("Sauvola threshold: the dynamic range must not be 0")

    def threshold(mean, variance):
        adjusted_deviation = 1.0 - np.sqrt(variance) / float(dynamic_range)
        return mean + (1.0 - sensitivity * adjusted_deviation)

    return _local_threshold(grey, region_size, lower_bound, upper_bound, threshold)


def _bernsen_extreme(grey, half, operation):
    """Minimum or maximum over Gamera's Bernsen window, separably.

    Gamera (threshold.hpp) visits offsets d in [-h, h-1] on each axis and,
    where x+d falls outside the image, uses x-d instead. In the interior that
    is the window [x-h, x+h-1]; at the far edge it is that window clipped; at
    the near edge (x < h) the mirrored offsets add x+1..x+h, giving [0, x+h].
    Rows and columns are chosen independently, so the 2-D extreme is a row
    pass followed by a column pass.
    """
    result = grey
    for axis in (1, 0):
        length = result.shape[axis]
        kernel = np.ones((1, 2 * half) if axis == 1 else (2 * half, 1), np.uint8)
        anchor = (half, 0) if axis == 1 else (0, half)
        # Default morphology border: outside pixels never win, i.e. the window is clipped.
        swept = operation(result, kernel, anchor=anchor)
        near = min(half, length)
        edge = np.take(result, np.arange(min(2 * half + 1, length)), axis=axis)
        edge_kernel = np.ones((1, 2 * half + 1) if axis == 1 else (2 * half + 1, 1), np.uint8)
        edge_swept = operation(edge, edge_kernel, anchor=(half, 0) if axis == 1 else (0, half))
        if axis == 1:
            swept[:, :near] = edge_swept[:, :near]
        else:
            swept[:near, :] = edge_swept[:near, :]
        result = swept
    return result


def bernsen_threshold(grey, region_size=11, contrast_limit=80, doubt_to_black=False):
    """Bernsen's threshold as Gamera computes it.

    J. Bernsen, "Dynamic thresholding of grey-level images", Proc. 8th ICPR,
    1251-1255, 1986: threshold at the mid-range (max + min) / 2 (integer
    division) of the window, white when the pixel is >= it; where the contrast
    max - min is below ``contrast_limit`` the pixel is "doubtful" and takes
    ``doubt_to_black``'s colour. Gamera's window is 2·(region_size // 2)
    pixels wide, see ``_bernsen_extreme``. With region_size 1 the window is
    empty: Gamera's min stays 255 and max 0, their 8-bit difference wraps to
    1, and the threshold is 127; that is reproduced too.
    """
    require_pixel_type(grey, "greyscale")
    if not 0 <= contrast_limit <= 255:
        raise ImageError(f"Bernsen threshold: contrast limit {contrast_limit} is out of range (0 - 255)")
    check_region("Bernsen threshold", grey, region_size)
    half = region_size // 2
    if half == 0:
        if 1 < contrast_limit:
            return np.full(grey.shape, not doubt_to_black)
        return grey >= 127
    low = _bernsen_extreme(grey, half, cv2.erode)
    high = _bernsen_extreme(grey, half, cv2.dilate)
    white = grey >= ((low.astype(np.uint16) + high) >> 1)
    doubtful = (high - low) < contrast_limit
    white[doubtful] = not doubt_to_black
    return white


def gatos_background(grey, binarization, region_size=15):
    """Gatos et al.'s background estimate, as Gamera's ``gatos_background``.

    B. Gatos, I. Pratikakis and S. J. Perantonis, "An adaptive binarization
    technique for low quality historical documents", LNCS 3163:102-113, 2004.
    Where the preliminary binarization is white the source pixel is kept;
    where it is black, the mean of the source over the white pixels of the
    clipped (2·(region_size//2)+1)² window, truncated to an integer, or 255
    when the window holds no white pixel.
    """
    check_same_size("Gatos background", grey, binarization)
    check_region("Gatos background", grey, region_size)
    ink = np.flatnonzero(~binarization)
    result = grey.copy()
    if ink.size:
        paper = binarization.astype(np.uint8)  # not a view: Pillow stores True as 255
        corners, _ = _clipped_windows(grey.shape, region_size // 2, ink)
        counts = _window_total(cv2.integral(paper, sdepth=cv2.CV_64F), corners)
        sums = _window_total(cv2.integral(grey * paper, sdepth=cv2.CV_64F), corners)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        result.ravel()[ink] = np.where(counts > 0, means, 255.0).astype(np.uint8)
    return result


def gatos_threshold(grey, background, binarization, q=0.6, p1=0.5, p2=0.8):
    """Gatos et al.'s final threshold, as Gamera's ``gatos_threshold``.

    A pixel is black where background - source exceeds
    q·δ·((1 - p2) / (1 + exp(-4·B / (b·(1 - p1)) + 2·(1 + p1)/(1 - p1))) + p2),
    with b the mean background under the preliminary binarization's white
    pixels and δ as below.
    Gamera computes δ as the sum over the whole image of source - background
    in 8-bit unsigned arithmetic (each difference wraps modulo 256), divided
    by the number of black pixels; that is kept. The threshold depends on the background
    value alone, so it is computed once per grey level with ``math.exp``
    (the C library's ``exp``, which Gamera's ``std::exp`` calls).
    """
    check_same_size("Gatos threshold", grey, background, binarization)
    ink_count = int(np.count_nonzero(~binarization))
    paper_count = grey.size - ink_count
    with np.errstate(all="ignore"):
        # Sums of integers below 2^53: exact, as Gamera's double accumulators are.
        delta = np.float64(np.sum(grey - background, dtype=np.int64)) / np.float64(ink_count)
        b = np.float64(np.sum(background[binarization], dtype=np.int64)) / np.float64(paper_count)
        scale = b * (1 - np.float64(p1))
        offset = (2 * (1 + np.float64(p1))) / (1 - np.float64(p1))
        thresholds = np.array([q * delta * ((1 - p2) / (1 + _c_exp((-4 * level) / scale + offset)) + p2) for level in range(256)])
    return ~((background.astype(np.int16) - grey) > thresholds[background])


def _c_exp(x):
    """The C library's exp (what Gamera's std::exp calls), with IEEE results instead of OverflowError."""
    try:
        return np.float64(math.exp(x))
    except OverflowError:
        return np.float64(math.inf)


def grey_histogram(grey):
    """The 256 level counts of an 8-bit image as ints: OpenCV's (fastest) while float32 holds them exactly."""
    if grey.size < 2**24:
        return [int(c) for c in cv2.calcHist([np.ascontiguousarray(grey)], [0], None, [256], [0, 256]).ravel()]
    return np.bincount(grey.ravel(), minlength=256).tolist()


def otsu_find_threshold(grey):
    """Gamera's ``otsu_find_threshold``: its loop over the normalised histogram, in float64.

    N. Otsu, "A threshold selection method from gray-level histograms", IEEE
    Trans. SMC 9(1):62-66, 1979. The criterion is compared with a strict <
    (the first maximum wins), the search runs between the lowest and highest
    occupied levels, and 127 is the answer when nothing beats 0 (one level).
    The loop is over 256 bins, so plain Python floats (IEEE doubles, the same
    sums in the same order) cost nothing.
    """
    counts = grey_histogram(grey)
    size = float(grey.shape[0] * grey.shape[1])
    p = [c / size for c in counts]
    mu_t = 0.0
    for i in range(256):
        mu_t += i * p[i]
    sigma_t = 0.0
    for i in range(256):
        sigma_t += (i - mu_t) * (i - mu_t) * p[i]
    k_low = 0
    while p[k_low] == 0 and k_low < 255:
        k_low += 1
    k_high = 255
    while p[k_high] == 0 and k_high > 0:
        k_high -= 1
    criterion, threshold = 0.0, 127
    omega_k = mu_k = 0.0
    for k in range(k_low, k_high + 1):
        omega_k += p[k]
        mu_k += k * p[k]
        expr = mu_t * omega_k - mu_k
        denominator = omega_k * (1 - omega_k)
        sigma_b = expr * expr / denominator if denominator else (math.inf if expr else math.nan)
        ratio = sigma_b / sigma_t if sigma_t else (math.inf if sigma_b > 0 else math.nan)
        if criterion < ratio:
            criterion, threshold = ratio, k
    return threshold


def otsu_threshold(grey):
    """Gamera's ``otsu_threshold``: white where the pixel is above Otsu's level."""
    require_pixel_type(grey, "greyscale")
    return grey > otsu_find_threshold(grey)


def despeckle(onebit, size=1):
    """Gamera's ``despeckle``: remove 8-connected black specks of fewer than ``size`` pixels.

    Gamera's size 1 is a special case: a black pixel whose eight neighbours
    are all white (outside the image counts as white) becomes white; so size 1
    and size 2 agree. Its flood fill for larger sizes stops a component's
    search once it holds ``size`` pixels, which removes exactly the components
    smaller than ``size``. Images under 3 pixels in either direction come back
    unchanged, as in Gamera.
    """
    require_pixel_type(onebit, "onebit")
    if size < 1:
        raise ImageError(f"Despeckle: the connected component size must be at least 1, not {size}")
    rows, cols = onebit.shape
    if rows < 3 or cols < 3:
        return onebit.copy()
    ink = (~onebit).view(np.uint8)
    if size <= 2:
        neighbours = _window_sum(ink, 1, cv2.CV_8U)
        return onebit | (neighbours == 1)
    return remove_small_components(onebit, size)


def dilate(onebit):
    """Gamera's ``dilate`` of a one-bit image: ink grows by a 3×3 square, clipped to the image.

    Images under 3 pixels in either direction come back unchanged, as in Gamera's ``erode_dilate``.
    """
    require_pixel_type(onebit, "onebit")
    if min(onebit.shape) < 3:
        return onebit.copy()
    ink = (~onebit).view(np.uint8)
    grown = cv2.dilate(ink, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return grown == 0
