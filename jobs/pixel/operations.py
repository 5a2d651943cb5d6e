"""Pixel's edits: what a submission may hold, and how it becomes full-resolution masks.

The page never sends bitmaps: it sends the list of operations the user made,
in page pixels, in order. An operation is a dict:

- ``layer``: ``"region"`` (the selected region) or a layer number 1..N;
- ``tool``: ``"brush"`` (a polyline of width ``size``, round ends; one point
  is a dot), ``"rect"`` (two corners, the second excluded) or ``"poly"`` (a
  filled polygon, the lasso);
- ``points``: ``[x0, y0, x1, y1, ...]``, whole numbers inside the page;
- ``erase``: true to clear instead of paint.

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
TOOLS = ("brush", "rect", "poly")
#: Bounds that keep a submission (and the saved work) small and its rasterisation quick.
MAX_OPERATIONS = 50_000
MAX_POINTS = 2_000_000
MAX_BRUSH = 2_000
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
    total = 0
    region_painted = False
    for index, op in enumerate(operations, 1):
        where = f"Edit {index}"
        if not isinstance(op, dict):
            _refuse(f"{where} is not an object.")
        layer, tool, points = op.get("layer"), op.get("tool"), op.get("points")
        if layer != REGION and not (_whole(layer) and 1 <= layer <= layers):
            _refuse(f'{where} names layer {layer!r}; use "region" or a layer from 1 to {layers}.')
        if tool not in TOOLS:
            _refuse(f"{where} uses the tool {tool!r}; the tools are {', '.join(TOOLS)}.")
        if not isinstance(op.get("erase", False), bool):
            _refuse(f'{where}: "erase" must be true or false.')
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
        total += len(points) // 2
        if total > MAX_POINTS:
            _refuse(f"The submission holds more than {MAX_POINTS} points.")
        region_painted = region_painted or (layer == REGION and not op.get("erase", False))
    if not region_painted:
        _refuse("No region is selected: select the part of the page to separate (or all of it) first.")


def rasterise(mask, operations, layer):
    """Apply the operations on ``layer`` to ``mask`` (uint8, 255 painted, 0 not), in order, in place."""
    for op in operations:
        if op["layer"] != layer:
            continue
        value = 0 if op.get("erase") else 255
        points = np.asarray(op["points"], np.int32).reshape(-1, 2)
        if op["tool"] == "brush":
            size = op["size"]
            if len(points) == 1:
                cv2.circle(mask, tuple(int(v) for v in points[0]), size // 2, value, -1, cv2.LINE_8)
            else:
                cv2.polylines(mask, [points], False, value, size, cv2.LINE_8)
        elif op["tool"] == "rect":
            (x0, y0), (x1, y1) = np.sort(points, axis=0)
            mask[y0:y1, x0:x1] = value
        else:
            cv2.fillPoly(mask, [points], value, cv2.LINE_8)
    return mask


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


def read_rodan_image(data_url):
    """A Rodan layer PNG as (mask, rgba): set where its grey value is above 1, as Rodan thresholds it."""
    data = base64.b64decode(data_url[len(PNG_DATA_URL):])
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    mask = np.where(grey > 1, np.uint8(255), np.uint8(0))
    with Image.open(io.BytesIO(data)) as image:
        rgba = np.array(image.convert("RGBA"))
    return mask, rgba
