"""Gamera 4.1.0's ``white_rohrer_threshold`` on NumPy, pixel for pixel.

J. M. White and G. D. Rohrer, "Image thresholding for optical character
recognition and other applications requiring character image extraction",
IBM J. Res. Dev. 27(4):400-411, 1983, first algorithm, as Gamera implements
it (``binarization.hpp``, code from XITE):

- a horizontal running average Y follows the pixels in raster order, the
  whole page as one stream, moving by ``f(pixel - Y)`` from XITE's table;
- a vertical running average Z[column] follows Y row after row, moving by
  ``g(Y - Z)`` from a second table;
- a pixel is black when below ``bias_factor · bias(Z) / 100``, with Z taken
  ``y_lookahead + 1`` rows below and ``x_lookahead + 1`` columns right of it
  (the raster order wraps at row ends), integer arithmetic throughout.

Gamera's lookahead runs off the bottom of the page: it reads ``width + 1``
pixels past the end of the image's memory, so its last pixels depend on
whatever lies there, and two runs on one A4 page differed in 1 to 5 pixels.
Here those reads see white paper (``PAST_END``); the job's Gamera engine
gives Gamera the same white rows below the page, so both engines agree.

The stream of Y is one long chain of table lookups, which NumPy cannot run
pixel by pixel at speed. With an f factor of 14 or less Y can change at most
255 times on any page (no chain of its moves returns to a state it left), so
it is followed from change to change, each next change found by a vectorised
search. Otherwise the stream is cut into chunks computed side by side: first
from the lowest and highest possible start, which pins most chunks' ends
(Y forgets its start within a few dozen pixels of ordinary paper; bounds are
narrowed pass by pass when it forgets over a few chunks), then from each
start still possible for the others, then once more from the exact
starts, stitched chunk after chunk (``running_average``). Z is a
recurrence per column, vectorised across each row.
"""

import functools
import graphlib

import cv2
import numpy as np

from rodan.imaging import ImageError, require_pixel_type

#: XITE's f and g tables (Gamera's ``wr1_f_tab`` and ``wr1_g_tab``), each entry stored once:
#: Gamera repeats every entry twice, entry i serving the differences d with (255 - d) // 2 == i.
_F_HALF = (
    -62, -61, -60, -59, -58, -57, -56, -54, -53, -52, -51, -50, -49, -48, -47, -46,
    -45, -44, -43, -42, -41, -41, -40, -39, -38, -37, -36, -36, -35, -34, -33, -33,
    -32, -31, -31, -30, -29, -29, -28, -27, -27, -26, -25, -25, -24, -24, -23, -23,
    -22, -22, -21, -21, -20, -20, -19, -19, -18, -18, -17, -17, -16, -16, -16, -15,
    -15, -14, -14, -14, -13, -13, -13, -12, -12, -12, -11, -11, -11, -10, -10, -10,
    -9, -9, -9, -8, -8, -8, -8, -7, -7, -7, -7, -6, -6, -6, -6, -5,
    -5, -5, -5, -4, -3, -2, -2, -2, -2, -2, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0,
    1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
)  # fmt: skip
_G_HALF = (
    -126, -125, -124, -123, -122, -121, -120, -119, -118, -117, -116, -115, -114, -113, -112, -111,
    -110, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99, -98, -97, -96, -95,
    -94, -93, -92, -91, -90, -89, -88, -87, -86, -85, -84, -83, -82, -81, -80, -79,
    -78, -77, -76, -75, -74, -73, -72, -71, -70, -69, -68, -67, -66, -65, -64, -63,
    -61, -59, -57, -54, -52, -50, -48, -46, -44, -42, -41, -39, -37, -36, -34, -33,
    -31, -30, -29, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15,
    -14, -14, -13, -12, -12, -11, -10, -10, -9, -8, -8, -7, -7, -6, -6, -5,
    -5, -4, -2, -2, -2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 4, 5, 5, 6,
    6, 7, 7, 8, 8, 9, 10, 10, 11, 12, 12, 13, 14, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 29, 30, 31, 33, 34,
    36, 37, 39, 41, 42, 44, 46, 48, 50, 52, 54, 57, 59, 61, 63, 64,
    65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80,
    81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96,
    97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
    113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 127,
)  # fmt: skip

#: What Gamera's reads past the end of the image see here (see the module docstring).
PAST_END = 255
#: Largest f and g factor (percent) that keeps both averages within 0-255, so that Gamera's
#: table lookups stay inside its tables; from 200 on they can step outside.
MAX_FACTOR = 199
#: Gamera's settings are C ints: beyond this, its arithmetic (bias_factor · 256) could overflow.
MAX_SETTING = 1_000_000
#: Streams shorter than this are run pixel by pixel; longer ones in chunks of about CHUNK pixels.
SHORT_STREAM = 4096
CHUNK = 1024
#: Beyond this many tried starts per chunk on average, the chunks are not worth it: run pixel by pixel.
MAX_LANES_PER_CHUNK = 8
#: Narrowing the chunks' bounds goes on while a pass removes at least this share of the starts left to try.
NARROWING = 0.4
#: f factors whose average forgets its start too slowly for chunks yet changes too often to follow from
#: change to change: here Gamera's loop was faster on an A4 page (0.5-0.9×), so the job runs Gamera's
#: ``white_rohrer_threshold`` for them where Gamera is installed (bench/README.md).
SLOW_F_FACTORS = range(15, 21)


def _c_div100(values):
    """C's integer division by 100 (truncation toward zero) of an integer array."""
    return np.sign(values) * (np.abs(values) // 100)


@functools.cache
def _step(half, factor):
    """Table ``[a, b] -> b + trunc(factor · step(a - b) / 100)`` over 0-255², step being XITE's f or g."""
    d = np.arange(256)[:, None] - np.arange(256)[None, :]
    step = -np.array(half)[(255 - d) // 2]
    return np.arange(256)[None, :] + _c_div100(factor * step)


def _envelopes(table):
    """Monotone bounds of a step table along its state axis: lower[p, y] <= table[p, y'] for all y' >= y,
    upper[p, y] >= table[p, y'] for all y' <= y; so [lower[lo], upper[hi]] holds every image of [lo, hi]."""
    lower = np.minimum.accumulate(table[:, ::-1], axis=1)[:, ::-1]
    upper = np.maximum.accumulate(table, axis=1)
    return lower.ravel().astype(np.uint16), upper.ravel().astype(np.uint16)


def _run_sequentially(stream, start, flat):
    """Y_j = table[stream_j, Y_j-1] one pixel at a time: short streams, and averages too sluggish for chunks."""
    out = np.empty(stream.size, np.uint16)
    y = start
    flat = flat.tolist()
    for j, p in enumerate((stream.astype(np.int64) * 256).tolist()):
        y = flat[p + y]
        out[j] = y
    return out


def _chunk_ends(rows, starts, flat, chunks=None):
    """End states of chunks (columns of ``rows``, pixels times 256) run from ``starts``.

    Everything is uint16 (pixel · 256 + state < 2^16): NumPy adds and looks up
    fastest without casts, and 'wrap' skips a bounds check the values never need.
    """
    y = np.array(starts, np.uint16)
    index = np.empty_like(y)
    for row in rows:
        np.add(row if chunks is None else row[chunks], y, out=index)
        flat.take(index, out=y, mode="wrap")
    return y


@functools.cache
def _changes_are_few(f_factor):
    """True when the f table's moves form no cycle, so Y changes at most 255 times on any page (f factors
    up to 14): following it from change to change then costs a few vectorised searches, whatever the page."""
    table = _step(_F_HALF, f_factor)
    moves = {y: set(table[:, y].tolist()) - {y} for y in range(256)}
    try:
        graphlib.TopologicalSorter(moves).prepare()
    except graphlib.CycleError:
        return False
    return True


def _still_ranges(table):
    """Per state y, the pixel values that leave it unchanged as (first, last - first) in uint8: XITE's f grows
    with pixel - y, so they are one interval around y: a pixel moves y when (pixel - first) mod 256 > last - first."""
    still = table == np.arange(256)
    first = still.argmax(axis=0)
    last = 255 - still[::-1].argmax(axis=0)
    return first.astype(np.uint8), (last - first).astype(np.uint8)


def _follow_changes(stream, start, table):
    """Y from change to change: it stays until a pixel outside its still range, found by a vectorised search
    over windows that double from 64 pixels (each search costs about what it skips)."""
    first, span = _still_ranges(table)
    out = np.empty(stream.size, np.uint16)
    y, pos, window = start, 0, 64
    while pos < stream.size:
        part = stream[pos : pos + window]
        moves = np.subtract(part, first[y], dtype=np.uint8) > span[y]
        j = int(moves.argmax())
        if not moves[j]:
            out[pos : pos + part.size] = y
            pos, window = pos + part.size, 2 * window
            continue
        out[pos : pos + j] = y
        y = int(table[part[j], y])
        out[pos + j] = y
        pos, window = pos + j + 1, 64
    return out


def running_average(stream, start, f_factor):
    """The states Y_j = table[stream_j, Y_j-1] (Y_-1 = start) of the f factor's 256-state chain, exactly.

    Where Y changes at most 255 times, it is followed from change to change.
    Otherwise chunks of ``CHUNK`` pixels run side by side. Monotone envelopes
    of the table bound each chunk's end when it may start anywhere in 0-255;
    a chunk whose predecessor's bounds meet starts at that known state. For
    the others every start within the bounds is tried, and the true starts
    follow chunk after chunk from ``start``. A last pass from the true
    starts records every state. Averages that move little forget their
    start slowly: longer chunks are tried, then pixel by pixel.
    """
    table = _step(_F_HALF, f_factor)
    if _changes_are_few(f_factor):
        return _follow_changes(stream, start, table)
    flat = table.ravel().astype(np.uint16)
    for length in (CHUNK, 8 * CHUNK):
        if stream.size < SHORT_STREAM or stream.size < 8 * length:
            break
        chunked = _run_in_chunks(stream, start, table, flat, length)
        if chunked is not None:
            return chunked
    return _run_sequentially(stream, start, flat)


def _run_in_chunks(stream, start, table, flat, length):
    """``running_average`` in chunks of ``length``, or None when too many starts would need trying."""
    count = -(-stream.size // length)
    padded = np.full(count * length, PAST_END, np.uint16)
    padded[: stream.size] = stream
    padded <<= 8
    rows = cv2.transpose(padded.reshape(count, length))
    lower, upper = _envelopes(table)
    low = _chunk_ends(rows, np.zeros(count), lower)
    high = _chunk_ends(rows, np.full(count, 255), upper)
    low, high = _narrowed(rows, start, low, high, lower, upper)
    lanes = _lanes(start, low, high)
    if len(lanes[0]) > MAX_LANES_PER_CHUNK * count:
        return None
    states = np.empty((length, count), np.uint16)
    y = _stitch(rows, start, low, high, flat, lanes)
    index = np.empty_like(y)
    for row, out in zip(rows, states):
        np.add(row, y, out=index)
        flat.take(index, out=out, mode="wrap")
        y = out
    return cv2.transpose(states).ravel()[: stream.size]


def _lane_count(low, high):
    """How many (chunk, start) pairs ``_lanes`` would try."""
    unpinned = np.flatnonzero(low[:-1] != high[:-1])
    widths = high[unpinned - 1].astype(np.int64) - low[unpinned - 1] + 1
    return int(widths[unpinned > 0].sum()) + int(unpinned.size > 0 and unpinned[0] == 0)


def _narrowed(rows, start, low, high, lower, upper):
    """Chunk end bounds narrowed by running the envelopes again from each predecessor's bounds (chunk 0 from
    ``start``) rather than from 0 and 255: averages that forget their start over a few chunks rather than
    within one. Passes repeat while one (two runs, as costly as two starts per chunk) removes more tried
    starts than it costs and at least ``NARROWING`` of them; averages that forget more slowly than that
    are left to longer chunks."""
    count = low.size
    lanes = _lane_count(low, high)
    while lanes > 2 * count:
        low = np.maximum(low, _chunk_ends(rows, np.concatenate(([start], low[:-1])), lower))
        high = np.minimum(high, _chunk_ends(rows, np.concatenate(([start], high[:-1])), upper))
        lanes, before = _lane_count(low, high), lanes
        if before - lanes < max(2 * count, NARROWING * before):
            break
    return low, high


def _lanes(start, low, high):
    """(chunk, start) pairs to try: every start of chunk k allowed by chunk k-1's bounds (chunk 0: ``start``),
    for each chunk k whose own bounds do not pin the next chunk's start."""
    chunks, starts = [], []
    for k in np.flatnonzero(low[:-1] != high[:-1]).tolist():
        first, last = (start, start) if k == 0 else (int(low[k - 1]), int(high[k - 1]))
        chunks += [k] * (last - first + 1)
        starts += range(first, last + 1)
    return chunks, starts


def _stitch(rows, start, low, high, flat, lanes):
    """Each chunk's true start: chunk k+1 starts where chunk k ends, pinned by k's bounds or found among
    the ``lanes`` tried from every start chunk k may have."""
    chunks, starts = lanes
    ends = _chunk_ends(rows, starts, flat, np.array(chunks, np.intp)).tolist() if chunks else []
    tried = dict(zip(zip(chunks, starts), ends))
    true_starts = np.empty(low.size, np.uint16)
    state = start
    for k in range(low.size):
        true_starts[k] = state
        if k + 1 < low.size:
            state = tried[k, state] if low[k] != high[k] else int(low[k])
    return true_starts


def _image_statistics(grey):
    """Gamera's ``image_mean`` and ``image_variance``: exact integer sums, then its double operations."""
    counts = np.bincount(grey.ravel(), minlength=256)
    levels = np.arange(256)
    area = float(grey.size)
    mean = float(counts @ levels) / area
    squares = float(counts @ (levels * levels)) / area
    return mean, squares - mean * mean


def _bias_thresholds(offset, bias_factor):
    """For every Z: the grey level below which a pixel is black, bias_factor · wr1_bias(Z) / 100 in C ints."""
    x = 256 - np.arange(256)
    dark = x + offset  # below the crossover 93 XITE's black bias factor is 0.0
    light = x - offset + np.trunc(-0.25 * (x - 93)).astype(np.int64)
    result = np.clip(np.where(x < 93, dark, light), 0, 255)
    return _c_div100(bias_factor * (256 - result))


def _initial_averages(grey, x_lookahead, y_lookahead, mean):
    """Gamera's warm-up over the first ``y_lookahead`` rows and ``x_lookahead`` pixels: Z[0..width] and Y.

    Here Y restarts from the mean at every pixel (Gamera's warm-up never
    advances it), row 1 resets Z to the mean, and the tables are unscaled.
    """
    cols = grey.shape[1]
    f_table, g_table = _step(_F_HALF, 100), _step(_G_HALF, 100)
    z = np.zeros(cols + 1, np.int64)
    z[0] = mean
    y = 0
    for row in range(y_lookahead + 1):
        width = cols if row < y_lookahead else x_lookahead
        if width == 0:
            continue
        ys = f_table[grey[row, :width], mean]
        z[:width] = mean if row == 1 else g_table[ys, z[:width]]
        y = int(ys[-1])
    return z, y


def _column_averages(ys, first, z, g_table):
    """Z after each of its updates: update j moves Z[column of read j] towards Y_j, row by row.

    ``first`` is the column (0-based, Gamera's Z index minus one) of the
    first read; reads then run through the columns in order, wrapping.
    """
    cols = z.size - 1
    rows = -(-(first + ys.size) // cols)
    grid = np.zeros(rows * cols, np.uint16)
    grid[first : first + ys.size] = ys
    grid <<= 8
    grid = grid.reshape(rows, cols)
    flat = g_table.ravel().astype(np.uint16)
    history = np.empty_like(grid)
    history[0] = z[1:]
    history[0, first:] = flat[grid[0, first:] + history[0, first:]]
    index = np.empty(cols, np.uint16)
    for r in range(1, rows):
        np.add(grid[r], history[r - 1], out=index)
        flat.take(index, out=history[r], mode="wrap")
    return history.ravel()[first : first + ys.size]


def check_settings(grey, x_lookahead, y_lookahead, bias_mode, bias_factor, f_factor, g_factor):
    """The settings for which Gamera's loop stays within the image and its tables, as clear ImageErrors."""
    name = "White-Rohrer threshold"
    if not (0 <= x_lookahead <= MAX_SETTING and 0 <= y_lookahead <= MAX_SETTING):
        raise ImageError(f"{name}: the x and y lookahead must be between 0 and {MAX_SETTING}")
    if y_lookahead >= grey.shape[0]:
        raise ImageError(
            f"{name}: a y lookahead of {y_lookahead} needs an image more than {y_lookahead} rows high, "
            f"this one has {grey.shape[0]}"
        )
    for label, factor in (("f", f_factor), ("g", g_factor)):
        if not 0 <= factor <= MAX_FACTOR:
            raise ImageError(f"{name}: the {label} factor must be between 0 and {MAX_FACTOR}, not {factor}")
    for label, value in (("bias mode", bias_mode), ("bias factor", bias_factor)):
        if abs(value) > MAX_SETTING:
            raise ImageError(f"{name}: the {label} must be between -{MAX_SETTING} and {MAX_SETTING}, not {value}")


def white_rohrer_threshold(grey, x_lookahead=8, y_lookahead=1, bias_mode=0, bias_factor=100, f_factor=100,
                           g_factor=100):
    """White and Rohrer's dynamic threshold as Gamera computes it (see the module docstring).

    ``bias_mode`` 0 derives the bias offset from the page, (int)(deviation -
    40), and starts the averages at the page mean; any other value is the
    offset itself, and the averages start at 0.
    """
    require_pixel_type(grey, "greyscale")
    check_settings(grey, x_lookahead, y_lookahead, bias_mode, bias_factor, f_factor, g_factor)
    rows, cols = grey.shape
    x_lookahead %= cols
    mean, offset = 0.0, bias_mode
    if bias_mode == 0:
        mean, variance = _image_statistics(grey)
        offset = int(np.sqrt(variance) - 40)
    z, y = _initial_averages(grey, x_lookahead, y_lookahead, int(mean))
    # Gamera's step s reads flat pixel first + s of the image followed by PAST_END, up to index
    # size + width; the Z it compares pixel s + 1 with is the one that read updated.
    size = grey.size
    first = (1 + y_lookahead) * cols + x_lookahead + 2
    stream = np.full(size + cols + 1, PAST_END, np.uint8)
    stream[:size] = grey.ravel()
    stream = stream[first:]
    zs = np.full(size, z[0], np.uint8)  # once the reads stop, Gamera copies Z[0] along
    zs[0] = z[1 + x_lookahead]
    if stream.size:
        ys = running_average(stream, y, f_factor)
        history = _column_averages(ys, (first - 1) % cols, z, _step(_G_HALF, g_factor))
        zs[1 : 1 + history.size] = history[: size - 1]
    # A threshold above 255 leaves every pixel black, one below 0 every pixel white.
    thresholds = np.clip(_bias_thresholds(offset, bias_factor), 0, 256).astype(np.uint16)
    return grey >= cv2.LUT(zs.reshape(rows, cols), thresholds)
