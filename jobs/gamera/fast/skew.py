"""Gamera 4.1.0's skew estimate and rotation on NumPy: the same angle, the same pixels.

The estimate is Gamera's ``rotation_angle_projections`` (C. Dalitz, G. K.
Michalakis and C. Pranzas, "Optical recognition of psaltic Byzantine chant
notation", IJDAR 11:143-158, 2008, section 3.1): the angle whose skewed row
projection of the black pixels has the largest squared derivative, first on
a coarse grid, then by golden-section search. Every projection is an integer
histogram and the search is Gamera's Python float arithmetic, so equal
projections give the equal angle; here each projection is a few NumPy
operations over the black pixels instead of Gamera's per-pixel loop.

The rotation is Gamera's ``rotate(angle, white, order=1)``: the image padded
with white so the turned page fits, then VIGRA's ``rotateImage`` with a
bilinear spline. VIGRA steps through each row by adding cos and sin to the
source position pixel after pixel; the same additions in the same order
(``_running_positions``) give the same positions bit for bit, and the
interpolation and its rounding are the same double operations. One-bit
pages are interpolated as whiteness (Gamera's one-bit accessor), so a
half-way value turns white, and only cells on an edge need arithmetic.

Arrays are ``rodan.imaging``'s pixel types (one-bit: True = white).
"""

import math
import sys

import numpy as np

from rodan.imaging import ImageError, pixel_type, require_pixel_type

from .conversion import to_onebit

#: The search range the job allows: within it Gamera's rotate never turns by 90 degrees first.
MAX_ANGLE = 45.0
#: Source positions summed together (many: one NumPy call per column and band of rows; 4 M is
#: about 1600 rows of an A4 page at 300 dpi, 64 MB for x and y), and columns of a band
#: interpolated together (few: the working arrays stay in cache).
POSITIONS_PER_BAND = 4_000_000
COLUMNS_PER_BLOCK = 32
_WHITE = {"onebit": 1, "greyscale": 255, "grey16": 65535, "rgb": 255}


# -- the estimate --------------------------------------------------------------


def skewed_projections(ink_rows, ink_cols, height, angles):
    """Gamera's ``projection_skewed_rows``: per angle, black pixels counted at row round(c·sin + r·cos).

    Row 0 and rows outside the image are not counted, as in Gamera. C's
    ``round`` (half away from zero) of a non-negative double v is
    floor(v + 0.5) exactly, since v + 0.5 is exact below 2^52; truncation
    toward zero differs from floor only below 0, and those positions, like
    every v < 0.5, fall in the uncounted row 0 either way.
    """
    projections = []
    for angle in angles:
        radians = angle * math.pi / 180.0
        across = np.arange(int(ink_cols.max(initial=0)) + 1) * math.sin(radians)
        down = np.arange(height) * math.cos(radians)
        position = across[ink_cols]
        position += down[ink_rows]
        position += 0.5
        row = position.astype(np.int32)
        np.clip(row, 0, height, out=row)
        counts = np.bincount(row, minlength=height + 1)[:height]
        counts[0] = 0
        projections.append(counts)
    return projections


def _roughness(projection):
    """Gamera's ``l2norm``: the sum of squared differences of neighbouring counts (an exact integer)."""
    steps = np.diff(projection)
    return int(np.dot(steps, steps))


def rotation_angle(onebit, minangle=-2.5, maxangle=2.5, accuracy=0.0):
    """Gamera's ``rotation_angle_projections``: (the angle that deskews the page, its accuracy).

    Accuracy 0 means Gamera's heuristic 180 · 0.5 / (width · π) degrees. A
    maximum at either end of the range fails, as in Gamera, with a sentence.
    """
    require_pixel_type(onebit, "onebit")
    check_range(minangle, maxangle, accuracy)
    ink_rows, ink_cols = np.divmod(np.flatnonzero(~onebit), onebit.shape[1])  # faster than np.nonzero
    height = onebit.shape[0]

    def score(angles):
        return [_roughness(p) for p in skewed_projections(ink_rows, ink_cols, height, angles)]

    accuracy = default_accuracy(onebit.shape[1], accuracy)
    grid = _coarse_grid(minangle, maxangle)
    scores = score(grid)
    best = max(range(len(grid)), key=lambda i: (scores[i], -i))  # the first maximum, as Gamera's strict >
    a, b, c, fa, fb, fc = _bracket(grid, scores, best, accuracy, score)
    return [_golden_section(a, b, c, fa, fb, fc, accuracy, score), accuracy]


def check_range(minangle, maxangle, accuracy):
    """The search range the job supports: within ±MAX_ANGLE, increasing, accuracy not negative."""
    if not -MAX_ANGLE <= minangle < maxangle <= MAX_ANGLE:
        raise ImageError(
            f"Correct skew: the angle range must satisfy -{MAX_ANGLE:g} <= minimum < maximum <= {MAX_ANGLE:g}, "
            f"got {minangle:g} to {maxangle:g}"
        )
    if accuracy < 0:
        raise ImageError(f"Correct skew: the accuracy must not be negative, got {accuracy:g}")


def _coarse_grid(minangle, maxangle):
    """Gamera's trial angles: steps of about 0.5 degrees, at least five points."""
    step = 0.5
    if (maxangle - minangle) / 4.0 < step:
        step = (maxangle - minangle) / 4.0
    else:
        step = (maxangle - minangle) / round((maxangle - minangle) / step)
    return [minangle + i * step for i in range(0, int(round((maxangle - minangle) / step)) + 1)]


def _bracket(grid, scores, best, accuracy, score):
    """Gamera's start of the golden-section search: the best grid point and its neighbours.

    At either end of the grid Gamera looks 1.5 · accuracy inwards and gives
    up unless that is better still.
    """
    b, fb = grid[best], scores[best]
    if best == 0 or best == len(grid) - 1:
        inward = 1 if best == 0 else -1
        probe = b + inward * 1.5 * accuracy
        (fprobe,) = score([probe])
        neighbour = grid[best + inward]
        if fprobe > fb and (probe < neighbour if inward == 1 else probe > neighbour):
            ends = (b, fb, neighbour, scores[best + inward])
            a, fa, c, fc = ends if inward == 1 else (ends[2], ends[3], ends[0], ends[1])
            return a, probe, c, fa, fprobe, fc
        raise ImageError(range_end_message(grid[0], grid[-1]))
    return grid[best - 1], b, grid[best + 1], scores[best - 1], fb, scores[best + 1]


def range_end_message(minangle, maxangle):
    """What to say when the best angle lies at an end of the range, where Gamera's search gives up."""
    return (
        f"Correct skew: the best angle lies at an end of the searched range ({minangle:g} to {maxangle:g} degrees); "
        "widen the range, or check that the page has black content"
    )


def _golden_section(a, b, c, fa, fb, fc, accuracy, score):
    """Gamera's golden-section refinement of a bracketed maximum (Numerical Recipes), step for step."""
    golden = 0.38197
    first = True
    while c - b > accuracy or b - a > accuracy:
        if first:
            x = b + golden * (c - b) if fc > fa else b - golden * (b - a)
            first = False
        else:
            x = b + golden * (c - b) if c - b > b - a else b - golden * (b - a)
        (fx,) = score([x])
        if x > b:
            if fx < fb:
                c, fc = x, fx
            else:
                a, fa, b, fb = b, fb, x, fx
        elif fx < fb:
            a, fa = x, fx
        else:
            c, fc, b, fb = b, fb, x, fx
    return b


def correct_skew(image, minangle=-2.5, maxangle=2.5, accuracy=0.0):
    """(the page turned by Gamera's estimate of its skew, the angle, its accuracy).

    The estimate needs one-bit pixels: other pages are estimated on Gamera's
    ``to_onebit`` of them (Otsu's threshold of their greyscale) and turned in
    their own pixel type. A page without black pixels has no skew to find
    (Gamera's search fails on it): it comes back unchanged, with angle 0.
    """
    check_size(image)
    onebit = to_onebit(image)
    if onebit.all():
        check_range(minangle, maxangle, accuracy)
        return image.copy(), 0.0, default_accuracy(onebit.shape[1], accuracy)
    angle, accuracy = rotation_angle(onebit, minangle, maxangle, accuracy)
    return rotate(image, angle), angle, accuracy


def default_accuracy(width, accuracy):
    """Gamera's accuracy: as given, or for 0 its heuristic 180 · 0.5 / (width · π) degrees."""
    return 180 * 0.5 / (width * math.pi) if accuracy == 0 else accuracy


def check_size(image):
    """Gamera's rotation needs at least 2×2 pixels; a clear ImageError otherwise."""
    if min(image.shape[:2]) < 2:
        raise ImageError(f"Correct skew: the image must be at least 2×2 pixels, got {image.shape[1]}×{image.shape[0]}")


# -- the rotation --------------------------------------------------------------


def _turned_size(width, height, angle):
    """Gamera's size of the turned page, for an angle normalised to [0, 360) without a 90-degree turn."""
    radians = (angle / 180.0) * math.pi
    cos, sin = math.cos(radians), math.sin(radians)
    sign = 1.0 if angle <= 90 or 180 <= angle <= 270 else -1.0
    return int(0.5 + abs(cos * width + sign * sin * height)), int(0.5 + abs(sin * width + sign * cos * height))


def _direction(degrees):
    """VIGRA's cos and sin of the rotation, exact for multiples of 45 degrees."""
    if abs(math.fmod(degrees, 45.0)) <= 2 * sys.float_info.epsilon:
        eighth = int(degrees / 45.0 - 0.5) if degrees < 0 else int(degrees / 45.0 + 0.5)
        half_root = 0.5 * math.sqrt(2.0)
        sines = (0.0, half_root, 1.0, half_root, 0.0, -half_root, -1.0, -half_root)
        cosines = (1.0, half_root, 0.0, -half_root, -1.0, -half_root, 0.0, half_root)
        return cosines[eighth % 8], sines[eighth % 8]
    radians = degrees * math.pi / 180.0
    return math.cos(radians), math.sin(radians)


def rotate(image, angle):
    """Gamera's ``rotate(angle, white, 1)`` of a one-bit, greyscale, 16-bit or RGB image, |angle| <= 45.

    The result is larger than the input: where the turned page is wider or
    taller, Gamera pads it with white on both sides by (new size - old
    size) // 2 + 2 pixels (sizes measured as Gamera does, one pixel short),
    and leaves white what falls outside the source.
    """
    kind = pixel_type(require_pixel_type(image, "onebit", "greyscale", "grey16", "rgb"))
    if not -MAX_ANGLE <= angle <= MAX_ANGLE:
        raise ImageError(f"Correct skew: only angles within ±{MAX_ANGLE:g} degrees are supported, got {angle:g}")
    check_size(image)
    while angle < 0.0:
        angle += 360
    while angle >= 360.0:
        angle -= 360
    # Gamera measures the page as ncols - 1 by nrows - 1 (its Rect's width and height).
    width, height = image.shape[1] - 1, image.shape[0] - 1
    new_width, new_height = _turned_size(width, height, angle)
    pad_x = (new_width - width) // 2 + 2 if new_width > width else 0
    pad_y = (new_height - height) // 2 + 2 if new_height > height else 0
    # Gamera's one-bit accessor shows VIGRA white as 1 and black as 0.
    values = image.astype(np.uint8) if kind == "onebit" else image  # not a view: Pillow may store True as 255
    white = _WHITE[kind]
    pad = ((pad_y, pad_y), (pad_x, pad_x)) + ((0, 0),) * (image.ndim - 2)
    source = np.pad(values, pad, constant_values=white)
    turned = _rotate_bilinear(source, -angle, white, kind == "onebit", pad_x > 0 and pad_y > 0)
    return turned != 0 if kind == "onebit" else turned


def _running_positions(starts, step, width):
    """VIGRA's source positions along rows: start, start + step, (start + step) + step, ...

    Laid out columns by rows, so each addition is one NumPy operation over
    all rows of the block (``np.add.accumulate`` along a row is several
    times slower: one dependent addition after another).
    """
    positions = np.empty((width, starts.size))
    positions[0] = starts
    for i in range(1, width):
        np.add(positions[i - 1], step, out=positions[i])
    return positions


def _cell_codes(source):
    """Per cell i of a 0/1 source, flat: its top-left value, plus 2 where its neighbours flat[i],
    flat[i + 1], flat[i + width], flat[i + width + 1] differ (an edge).

    Cells of the last row and column, which a position reaches only at t = 0,
    count as edges: their formula is exact too, with the missing neighbours
    weighted 0.
    """
    flat = source.ravel()
    width = source.shape[1]
    edge = np.ones(flat.size, bool)
    top_left = flat[: -width - 1]
    same = (top_left == flat[1:-width]) & (top_left == flat[width:-1]) & (top_left == flat[width + 1 :])
    np.logical_not(same, out=edge[: -width - 1])
    edge.reshape(source.shape)[:, -1] = True
    return flat | (edge.view(np.uint8) << 1)


def _rotate_bilinear(source, degrees, background, one_bit, padded):
    """VIGRA's ``rotateImage`` of a ``SplineImageView<1>`` about the image centre into an image of its size.

    Row by row VIGRA starts at the source position of the row's first pixel
    and adds cos and sin per pixel (``_running_positions``, for a band of
    rows at a time, laid out columns by rows); then blocks of columns are interpolated in cache.
    ``padded``: the source has a border of at least two background pixels.
    """
    height, width = source.shape[:2]
    cos, sin = _direction(degrees)
    centre_x, centre_y = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    result = np.empty_like(source)
    codes = _cell_codes(source) if one_bit else None
    rows_per_band = max(1, POSITIONS_PER_BAND // width)
    for band in range(0, height, rows_per_band):
        ys = np.arange(band, min(band + rows_per_band, height), dtype=np.float64)
        x = _running_positions((-(ys - centre_y)) * sin - centre_x * cos + centre_x, cos, width)
        y = _running_positions((ys - centre_y) * cos - centre_x * sin + centre_y, sin, width)
        for first in range(0, width, COLUMNS_PER_BLOCK):
            columns = slice(first, first + COLUMNS_PER_BLOCK)
            block = _interpolate(source, x[columns], y[columns], background, codes, padded)
            result[band : band + ys.size, columns] = block.swapaxes(0, 1)
    return result


def _interpolate(source, x, y, background, codes, padded):
    """The bilinear values at source positions (x, y), VIGRA's way, or ``background`` outside the source.

    (1 - ty)·((1 - tx)·a + tx·b) + ty·((1 - tx)·c + tx·d) over the 2×2
    neighbours a, b / c, d of cell (floor x, floor y), in double, rounded half
    up. At the last column (row) VIGRA steps back one cell and takes t = 1;
    staying there with t = 0 gives the same value, so the step is left out.
    Inside the source the value lies within the neighbours' range, so
    VIGRA's clipping never acts. Where all four neighbours are equal the
    value rounds to theirs: given the ``codes`` of a one-bit source
    (``_cell_codes``), only the cells on an edge get the arithmetic.
    On a ``padded`` source, positions outside it are moved onto its border,
    whose cells hold only background: cheaper than masking them.
    """
    height, width = source.shape[:2]
    if padded:
        np.clip(x, 0.0, width - 1.0, out=x)
        np.clip(y, 0.0, height - 1.0, out=y)
    else:
        outside = (x < 0.0) | (x > width - 1.0) | (y < 0.0) | (y > height - 1.0)
    cell_x, cell_y = np.floor(x), np.floor(y)
    cell = cell_y * width
    cell += cell_x
    cell = cell.astype(np.intp)
    flat = source.reshape((height * width,) + source.shape[2:])
    neighbours = [flat[offset:] for offset in (0, 1, width, width + 1)]
    if codes is None:
        tx, ty = x - cell_x, y - cell_y
        if source.ndim == 3:
            tx, ty = tx[..., None], ty[..., None]
        a, b, c, d = (np.take(n, cell, axis=0, mode="clip") for n in neighbours)
        result = _bilinear(tx, ty, a, b, c, d).astype(source.dtype)
    else:
        code = np.take(codes, cell, mode="clip")
        edge = np.flatnonzero(code > 1)
        result = code & 1
        cell = cell.ravel()[edge]
        x, y = x.ravel()[edge], y.ravel()[edge]
        values = (np.take(n, cell, mode="clip") for n in neighbours)
        result.ravel()[edge] = _bilinear(x - np.floor(x), y - np.floor(y), *values)
    if not padded:
        result[outside] = background
    return result


def _bilinear(tx, ty, a, b, c, d):
    """VIGRA's bilinear formula in its order of double operations, plus 0.5 for the rounding cast."""
    upper = (1.0 - tx) * a
    upper += tx * b
    lower = (1.0 - tx) * c
    lower += tx * d
    upper *= 1.0 - ty
    lower *= ty
    upper += lower
    upper += 0.5
    return upper
