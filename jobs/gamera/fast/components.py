"""Gamera 4.1.0's ``cc_analysis`` and the Gamera XML file CC Analysis writes, byte for byte.

Gamera labels 8-connected black components in two raster passes and
returns them ordered by label; the smallest provisional label of a
component is the one its first black pixel (in row-major order) received,
so the components come out ordered by their first pixel. Each becomes a
``<glyph>`` with its bounding box, the state UNCLASSIFIED and its pixels as
Gamera's ``to_rle``: alternating white and black run lengths over the
bounding box read row by row (runs continue from one row to the next), the
pixels of other components counting as white, each number followed by a
space, and a final "0" black run when the box ends on white. Gamera's
``word_wrap`` folds every line at 78 columns, indented two spaces per level.
Fresh components have no features, names or properties, so Gamera writes
none, whatever ``with_features`` says.

Here OpenCV labels the page; the runs of each component and its box come
from the horizontal black runs of the page (a run never spans two
components), so the whole file is a few array operations and one string
per glyph.
"""

import cv2
import numpy as np

from rodan.imaging import ImageError, require_pixel_type

#: Gamera labels into 16-bit one-bit pixels from 2 upwards and gives up when label 65535 would be needed.
GAMERA_LABEL_LIMIT = 65535 - 2

HEADER = '<?xml version="1.0" encoding="utf-8"?>\n<gamera-database version="2.0">\n'
FOOTER = "</gamera-database>\n"
_IDS_AND_DATA = '      <ids state="UNCLASSIFIED">\n      </ids>\n      <data>\n'
_GLYPH_END = "      </data>\n    </glyph>\n"


def word_wrap(text, indent):
    """Gamera's ``util.word_wrap`` of one string: break at the last space before 78 - 2·indent columns."""
    pad = "  " * indent
    width = 78 - 2 * indent
    if len(text) < width:
        return f"{pad}{text}\n"
    lines, start = [], 0
    while True:
        if len(text) - start < width:
            lines.append(text[start:])
            break
        space = text.rfind(" ", start, start + width)
        if space == -1:
            lines.append(text[start:])
            break
        lines.append(text[start:space])
        start = space + 1
    return "".join(f"{pad}{line}\n" for line in lines)


def black_runs(ink):
    """Row, first column and end column (exclusive) of every horizontal black run, in raster order.

    Column k of the XOR of the white-padded rows with themselves shifted by
    one is set where a run starts or ends at column k; OpenCV lists those
    places row by row, so they come in start/end pairs.
    """
    rows, cols = ink.shape
    padded = np.zeros((rows, cols + 2), np.uint8)
    padded[:, 1:-1] = ink
    changes = cv2.findNonZero(cv2.bitwise_xor(padded[:, 1:], padded[:, :-1]))
    if changes is None:
        return (np.zeros(0, np.int64),) * 3
    changes = changes.reshape(-1, 2).astype(np.int64)
    return changes[0::2, 1], changes[0::2, 0], changes[1::2, 0]


def check_label_count(onebit):
    """Refuse, as Gamera does, a page whose raster scan would need more than 65533 provisional labels.

    Gamera starts a new label at every black pixel with no black neighbour
    to the west, north-west, north or north-east, and fails once label
    65535 would be needed. Both engines call this first, so such a page
    fails with the same sentence on each.
    """
    require_pixel_type(onebit, "onebit")
    seen = np.zeros((onebit.shape[0] + 1, onebit.shape[1] + 2), bool)
    seen[1:, 1:-1] = ~onebit
    earlier = seen[1:, :-2] | seen[:-1, :-2] | seen[:-1, 1:-1] | seen[:-1, 2:]
    if np.count_nonzero(seen[1:, 1:-1] & ~earlier) > GAMERA_LABEL_LIMIT:
        raise ImageError(
            "CC Analysis: the image has too many separate black marks for Gamera's 16-bit labels "
            f"(more than {GAMERA_LABEL_LIMIT} in its raster scan); despeckle or crop it first"
        )


def cc_analysis(onebit):
    """Gamera's connected components of a one-bit image (True = white): boxes and run lengths.

    Returns ``(boxes, numbers, offsets)``: ``boxes`` is an (n, 4) array of
    top, left, rows, columns per component in Gamera's order;
    ``numbers[offsets[i]:offsets[i + 1]]`` are component i's ``to_rle`` run
    lengths. Raises ImageError where Gamera would run out of labels.
    """
    check_label_count(onebit)
    ink = (~onebit).view(np.uint8)
    row, first, end = black_runs(ink)
    if not row.size:
        return np.zeros((0, 4), np.int64), np.zeros(0, np.int64), np.zeros(1, np.int64)
    count, labels = cv2.connectedComponents(ink, connectivity=8, ltype=cv2.CV_32S)
    run_label = labels.ravel()[row * ink.shape[1] + first]
    # Group runs by component, each group in raster order; then order the groups by their first run.
    by_label = np.argsort(run_label, kind="stable")
    sizes = np.bincount(run_label, minlength=count)[1:]
    group_start = np.cumsum(sizes) - sizes
    order = np.argsort(by_label[group_start])
    sizes, group_start = sizes[order], group_start[order]
    shift = group_start - (np.cumsum(sizes) - sizes)
    runs = by_label[np.arange(row.size) + np.repeat(shift, sizes)]
    return _boxes_and_numbers(row[runs], first[runs], end[runs], sizes)


def _boxes_and_numbers(row, first, end, runs_per_glyph):
    """Boxes and ``to_rle`` numbers from the runs grouped by glyph (each in raster order)."""
    glyph_start = np.concatenate([[0], np.cumsum(runs_per_glyph)[:-1]])
    glyph = np.repeat(np.arange(runs_per_glyph.size), runs_per_glyph)
    top = row[glyph_start]
    bottom = np.maximum.reduceat(row, glyph_start)
    left = np.minimum.reduceat(first, glyph_start)
    right = np.maximum.reduceat(end, glyph_start)
    width = right - left
    boxes = np.stack([top, left, bottom - top + 1, width], axis=1)
    # Run positions in the box read row by row; a run ending at the box's right edge joins one starting
    # at its left edge on the next row.
    start = (row - top[glyph]) * width[glyph] + first - left[glyph]
    stop = start + (end - first)
    joins = np.zeros(row.size, bool)
    joins[1:] = (glyph[1:] == glyph[:-1]) & (start[1:] == stop[:-1])
    kept = ~joins
    last = np.concatenate([kept[1:], [True]])
    start, stop, glyph = start[kept], stop[last], glyph[kept]
    white_from = np.concatenate([[0], stop[:-1]])
    first_of_glyph = np.concatenate([[True], glyph[1:] != glyph[:-1]])
    white_from[first_of_glyph] = 0
    merged = np.bincount(glyph, minlength=boxes.shape[0])
    final_stop = stop[np.cumsum(merged) - 1]
    tail = boxes[:, 2] * boxes[:, 3] - final_stop
    lengths = 2 * merged + 2 * (tail > 0)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    numbers = np.zeros(offsets[-1], np.int64)
    local = np.arange(start.size) - np.repeat(np.cumsum(merged) - merged, merged)
    slot = offsets[glyph] + 2 * local
    numbers[slot] = start - white_from
    numbers[slot + 1] = stop - start
    ending = np.flatnonzero(tail > 0)
    numbers[offsets[ending] + 2 * merged[ending]] = tail[ending]
    return boxes, numbers, offsets


def glyphs_xml(boxes, numbers, offsets):
    """The Gamera XML text ``WriteXMLFile(glyphs, with_features=True)`` writes for fresh components.

    All run lengths are turned into text at once; each glyph's ``to_rle``
    string is then a slice of that text, and only the long ones need folding.
    """
    if not len(boxes):
        return HEADER + FOOTER
    tokens = numbers.astype(str)
    ends = np.cumsum(np.strings.str_len(tokens) + 1)
    text = " ".join(tokens.tolist()) + " "
    cuts = np.concatenate([[0], ends])[offsets]
    parts = [HEADER, "  <glyphs>\n"]
    for (top, left, rows, cols), begin, finish in zip(boxes.tolist(), cuts[:-1].tolist(), cuts[1:].tolist()):
        tag = f'<glyph uly="{top}" ulx="{left}" nrows="{rows}" ncols="{cols}">'
        rle = text[begin:finish]
        if len(tag) < 74 and finish - begin < 70:
            parts.append(f"    {tag}\n{_IDS_AND_DATA}        {rle}\n{_GLYPH_END}")
        else:
            parts.append(word_wrap(tag, 2) + _IDS_AND_DATA + word_wrap(rle, 4) + _GLYPH_END)
    parts.append("  </glyphs>\n")
    parts.append(FOOTER)
    return "".join(parts)


def remove_small_components(onebit, size):
    """A copy of a one-bit image without the 8-connected black components of fewer than ``size`` pixels.

    A component's area is the sum of its runs' lengths, so OpenCV's label
    image is read only at run starts, and only the small components' runs
    are written back as white.
    """
    ink = (~onebit).view(np.uint8)
    result = ink == 0
    row, first, end = black_runs(ink)
    if not row.size:
        return result
    _, labels = cv2.connectedComponentsWithAlgorithm(ink, 8, cv2.CV_32S, cv2.CCL_GRANA)
    run_label = labels.ravel()[row * ink.shape[1] + first]
    lengths = end - first
    small = np.bincount(run_label, weights=lengths)[run_label] < size
    row, first, lengths = row[small], first[small], lengths[small]
    shift = row * ink.shape[1] + first - (np.cumsum(lengths) - lengths)
    result.ravel()[np.repeat(shift, lengths) + np.arange(lengths.sum())] = True
    return result


def cc_analysis_xml(onebit):
    """The Gamera XML glyph file of a one-bit image's connected components, as CC Analysis writes it."""
    return glyphs_xml(*cc_analysis(onebit))
