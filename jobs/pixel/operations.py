"""Pixel's edits: what a submission may hold, and how it becomes full-resolution masks.

The page never sends bitmaps: it sends the list of operations the user made,
in page pixels, in order. An operation is a dict:

- ``layer``: ``"region"`` (the selected region) or a layer number 1..N;
- ``tool``: ``"brush"`` (a polyline of width ``size``, round ends; one point
  is a dot), ``"rect"`` (two corners, the second excluded) or ``"poly"`` (a
  filled polygon, the lasso);
- ``points``: ``[x0, y0, x1, y1, ...]``, whole numbers inside the page;
- ``erase``: true to clear instead of paint.

Two tools have no ``points``:

- ``"fill"`` (flood fill, the magic wand): ``x``, ``y`` (the seed pixel) and
  ``tolerance`` (0-255). It paints (or erases) the 4-connected pixels around
  the seed whose luma differs from the seed's by at most ``tolerance``. Luma is
  ``(299 R + 587 G + 114 B + 500) // 1000`` of the page's 8-bit RGB (alpha
  ignored): ``luma`` below, and the page's ``fill.ts``, the same rule. The page
  sends only the seed; the region is recomputed here from the original.
- ``"paste"``: ``from_layer``, ``rect`` ``[x0, y0, x1, y1]`` (x1, y1
  excluded), ``dx``, ``dy`` and optionally ``at``: the pixels painted on
  ``from_layer`` inside ``rect``, as they were after the first ``at`` edits
  (by default all edits before this one), are painted on ``layer`` moved by
  ``(dx, dy)`` (what falls outside the page is dropped; unpainted pixels of
  the copy leave the target as it was). A cut is a copy then a ``rect`` erase
  on the source, so its later paste names the ``at`` before the erase.

Rodan's own pages send one PNG data URL per layer instead (background first,
region last); ``read_rodan_masks`` reads those. Both shapes are checked
here before the job accepts them, so the re-run cannot fail on bad input.
"""

import base64
import binascii
import io

import cv2
import numpy as np
from PIL import Image

from rodan.jobs.base import ManualPhaseException

MAX_LAYERS = 7
REGION = "region"
TOOLS = ("brush", "rect", "poly", "fill", "paste")
#: Bounds that keep a submission (and the saved work) small and its rasterisation quick.
MAX_OPERATIONS = 50_000
MAX_POINTS = 2_000_000
MAX_BRUSH = 2_000
#: Each paste may rasterise its source layer again: a bound on that work.
MAX_PASTES = 200
PNG_DATA_URL = "data:image/png;base64,"


def _refuse(text):
    raise ManualPhaseException(text)


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_layer_count(layers, connected):
    """The number of layers: the connected layer inputs, or the page's choice (1-7) when none is."""
    if not _whole(layers) or not 1 <= layers <= MAX_LAYERS:
        _refuse(f"The number of layers must be a whole number from 1 to {MAX_LAYERS}.")
    if connected and layers != connected:
        _refuse(f"This job has {connected} layer inputs connected, so it needs exactly {connected} layers, "
                f"not {layers}.")
    return layers


def check_operations(operations, layers, width, height):
    """Raise ManualPhaseException with a sentence unless ``operations`` is a valid edit list."""
    if not isinstance(operations, list):
        _refuse('"operations" must be a list of edits.')
    if len(operations) > MAX_OPERATIONS:
        _refuse(f"The submission holds {len(operations)} edits; at most {MAX_OPERATIONS} are accepted.")
    total = pastes = 0
    region_painted = False
    for index, op in enumerate(operations, 1):
        where = f"Edit {index}"
        if not isinstance(op, dict):
            _refuse(f"{where} is not an object.")
        layer, tool = op.get("layer"), op.get("tool")
        _check_layer(where, layer, layers)
        if tool not in TOOLS:
            _refuse(f"{where} uses the tool {tool!r}; the tools are {', '.join(TOOLS)}.")
        if not isinstance(op.get("erase", False), bool):
            _refuse(f'{where}: "erase" must be true or false.')
        if tool == "fill":
            _check_fill(where, op, width, height)
        elif tool == "paste":
            _check_paste(where, op, index - 1, layers, width, height)
            pastes += 1
            if pastes > MAX_PASTES:
                _refuse(f"The submission holds more than {MAX_PASTES} pastes.")
        else:
            total += _check_points(where, op, tool, width, height)
            if total > MAX_POINTS:
                _refuse(f"The submission holds more than {MAX_POINTS} points.")
        region_painted = region_painted or (layer == REGION and not op.get("erase", False))
    if not region_painted:
        _refuse("No region is selected: select the part of the page to separate (or all of it) first.")


def _check_layer(where, layer, layers, field="layer"):
    if layer != REGION and not (_whole(layer) and 1 <= layer <= layers):
        _refuse(f'{where} names {field} {layer!r}; use "region" or a layer from 1 to {layers}.')


def _check_points(where, op, tool, width, height):
    """Check a brush, rectangle or polygon; the number of its points."""
    points = op.get("points")
    if not isinstance(points, list) or len(points) % 2 or not all(_whole(v) for v in points):
        _refuse(f'{where}: "points" must be a list of whole numbers, x and y in turn.')
    needed = {"brush": 2, "rect": 4, "poly": 6}[tool]
    if len(points) < needed or (tool == "rect" and len(points) != 4):
        _refuse(f"{where}: a {tool} needs {'exactly' if tool == 'rect' else 'at least'} {needed // 2} points.")
    xs, ys = points[0::2], points[1::2]
    if min(xs) < 0 or min(ys) < 0 or max(xs) > width or max(ys) > height:
        _refuse(f"{where} reaches outside the page, which is {width} x {height} pixels.")
    if tool == "brush":
        size = op.get("size")
        if not _whole(size) or not 1 <= size <= MAX_BRUSH:
            _refuse(f"{where}: the brush size must be a whole number of pixels from 1 to {MAX_BRUSH}.")
    return len(points) // 2


def _check_fill(where, op, width, height):
    x, y, tolerance = op.get("x"), op.get("y"), op.get("tolerance")
    if not _whole(x) or not _whole(y) or not (0 <= x < width and 0 <= y < height):
        _refuse(f'{where}: a fill needs "x" and "y", a pixel of the page (0 to {width - 1}, 0 to {height - 1}).')
    if not _whole(tolerance) or not 0 <= tolerance <= 255:
        _refuse(f'{where}: the fill\'s "tolerance" must be a whole number from 0 to 255.')


def _check_paste(where, op, before, layers, width, height):
    _check_layer(where, op.get("from_layer"), layers, "from_layer")
    rect, dx, dy = op.get("rect"), op.get("dx"), op.get("dy")
    if not isinstance(rect, list) or len(rect) != 4 or not all(_whole(v) for v in rect):
        _refuse(f'{where}: a paste\'s "rect" must be four whole numbers, [x0, y0, x1, y1].')
    x0, y0, x1, y1 = rect
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        _refuse(f"{where}: the copied rectangle must lie inside the page ({width} x {height} pixels), "
                "its first corner above and left of the second.")
    if not _whole(dx) or not _whole(dy) or abs(dx) > width or abs(dy) > height:
        _refuse(f'{where}: a paste\'s "dx" and "dy" must be whole numbers of pixels, at most the page\'s size.')
    at = op.get("at", before)
    if not _whole(at) or not 0 <= at <= before:
        _refuse(f'{where}: a paste\'s "at" must be a whole number of earlier edits, from 0 to {before}.')


#: The luma's weights, laid over each pixel's interleaved R, G, B bytes (anchored on G).
LUMA_WEIGHTS = np.array([[299, 587, 114]], np.float32)


def luma(rgb):
    """The page's greyscale for the fill: (299 R + 587 G + 114 B + 500) // 1000, uint8 (the page computes the same).

    OpenCV's filter2D sums the weighted bytes of each row in 32-bit floats,
    exact for these integers (below 2**24), and a correctly rounded division
    by 1000 floors exactly: the same bytes as integer arithmetic for all
    2**24 colours, 2.7 times as fast as NumPy's 32-bit integer passes.
    """
    height, width = rgb.shape[:2]
    rows = np.ascontiguousarray(rgb).reshape(height, width * 3)
    sums = cv2.filter2D(rows, cv2.CV_32F, LUMA_WEIGHTS, anchor=(1, 0), borderType=cv2.BORDER_CONSTANT)[:, 1::3]
    sums += 500
    sums /= 1000
    return np.floor(sums, out=sums).astype(np.uint8)


#: Rows at a time when the page's luma is computed: the 32-bit sums of the whole page would be 4 bytes a pixel.
LUMA_ROWS = 256


def page_luma(page):
    """``luma`` of the page's RGB (RGBA as ``to_rgba`` gives it, alpha ignored), computed strip by strip.

    An 8-bit grey page is its own luma ((1000 g + 500) // 1000 = g): no copy.
    """
    from rodan.imaging import to_rgba

    if page.dtype == np.uint8 and page.ndim == 2:
        return page
    grey = np.empty(page.shape[:2], np.uint8)
    for top in range(0, grey.shape[0], LUMA_ROWS):
        rows = page[top:top + LUMA_ROWS]
        rgb = rows if rows.dtype == np.uint8 and rows.ndim == 3 and rows.shape[2] == 3 else to_rgba(rows)[..., :3]
        grey[top:top + LUMA_ROWS] = luma(rgb)
    return grey


class Rasteriser:
    """Turns the edit list into full-resolution layer masks (uint8, 255 painted, 0 not).

    ``start(layer)`` gives a layer's mask before any edit (its input PNG, or
    empty); ``grey()`` the page's luma, asked for only when there is a fill
    and kept while a layer still to be asked for (``layer``) may need it.
    A paste rasterises its source layer again up to the paste's ``at``, so a
    layer costs one extra mask per level of pastes, never all layers at once.
    """

    def __init__(self, operations, shape, start, grey):
        self.operations = operations
        self.shape = shape
        self._start = start
        self._grey = grey
        self._luma = None
        self._done = set()

    def layer(self, layer):
        """The layer's final mask; the page's luma is let go once no layer still to come has a fill or a paste."""
        mask = self.mask(layer)
        self._done.add(layer)
        if not any(op["tool"] in ("fill", "paste") and op["layer"] not in self._done for op in self.operations):
            self._luma = None
        return mask

    def heavy(self, layer):
        """Whether the layer has a fill or a paste, which need a full-size array more while it is rasterised."""
        return any(op["layer"] == layer and op["tool"] in ("fill", "paste") for op in self.operations)

    def mask(self, layer, upto=None):
        mask = self._start(layer)
        ops = self.operations if upto is None else self.operations[:upto]
        for index, op in enumerate(ops):
            if op["layer"] == layer:
                self._apply(mask, op, index)
        return mask

    def _apply(self, mask, op, index):
        value = 0 if op.get("erase") else 255
        tool = op["tool"]
        if tool == "fill":
            region = self._fill(op)
            if value:
                cv2.bitwise_or(mask, region, dst=mask)
            else:
                cv2.subtract(mask, region, dst=mask)
        elif tool == "paste":
            self._paste(mask, op, index)
        elif tool == "rect":
            points = np.asarray(op["points"], np.int32).reshape(-1, 2)
            (x0, y0), (x1, y1) = np.sort(points, axis=0)
            mask[y0:y1, x0:x1] = value
        else:
            points = np.asarray(op["points"], np.int32).reshape(-1, 2)
            if tool == "poly":
                cv2.fillPoly(mask, [points], value, cv2.LINE_8)
            elif len(points) == 1:
                cv2.circle(mask, tuple(int(v) for v in points[0]), op["size"] // 2, value, -1, cv2.LINE_8)
            else:
                cv2.polylines(mask, [points], False, value, op["size"], cv2.LINE_8)

    def _fill(self, op):
        """The fill's pixels (255, else 0): OpenCV's floodFill, 4-connected, fixed range around the seed."""
        if self._luma is None:
            self._luma = self._grey()
        height, width = self.shape
        region = np.zeros((height + 2, width + 2), np.uint8)
        tolerance = op["tolerance"]
        flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
        cv2.floodFill(self._luma, region, (op["x"], op["y"]), 0, tolerance, tolerance, flags)
        return region[1:-1, 1:-1]

    def _paste(self, mask, op, index):
        x0, y0, x1, y1 = op["rect"]
        dx, dy = op["dx"], op["dy"]
        height, width = self.shape
        # The destination clipped to the page, and the matching part of the source.
        tx0, ty0 = max(x0 + dx, 0), max(y0 + dy, 0)
        tx1, ty1 = min(x1 + dx, width), min(y1 + dy, height)
        if tx0 >= tx1 or ty0 >= ty1:
            return
        source = self.mask(op["from_layer"], op.get("at", index))
        copied = source[ty0 - dy:ty1 - dy, tx0 - dx:tx1 - dx]
        target = mask[ty0:ty1, tx0:tx1]
        np.maximum(target, copied, out=target)


def _png_of(data_url, what):
    if not isinstance(data_url, str) or not data_url.startswith(PNG_DATA_URL):
        _refuse(f"{what} must be a PNG data URL (data:image/png;base64,...).")
    try:
        return base64.b64decode(data_url[len(PNG_DATA_URL):], validate=True)
    except (binascii.Error, ValueError):
        _refuse(f"{what} is not valid base64.")


def check_rodan_layers(images, connected, width, height):
    """Check Rodan's shape: PNG data URLs, background first, region last, each the page's size."""
    if not isinstance(images, list) or not 3 <= len(images) <= MAX_LAYERS + 2:
        _refuse(f"Rodan's submission is a list of 3 to {MAX_LAYERS + 2} PNG data URLs: "
                "the background, each layer, then the selected region.")
    check_layer_count(len(images) - 2, connected)
    for index, data_url in enumerate(images):
        what = "The background" if index == 0 else "The region" if index == len(images) - 1 else f"Layer {index}"
        try:
            with Image.open(io.BytesIO(_png_of(data_url, what))) as image:
                size = image.size
                image.verify()
        except ManualPhaseException:
            raise
        except Exception:
            _refuse(f"{what} is not a readable PNG image.")
        if size != (width, height):
            _refuse(f"{what} is {size[0]} x {size[1]} pixels; the page is {width} x {height}.")


def read_rodan_image(data_url, with_image):
    """A Rodan layer PNG as (mask, rgba or None): set where its grey value is above 1, as Rodan thresholds it.

    The RGBA image is decoded only ``with_image`` (``Output Mask`` writes it as is).
    """
    data = base64.b64decode(data_url[len(PNG_DATA_URL):])
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    mask = cv2.threshold(grey, 1, 255, cv2.THRESH_BINARY)[1]
    if not with_image:
        return mask, None
    with Image.open(io.BytesIO(data)) as image:
        return mask, np.array(image.convert("RGBA"))
