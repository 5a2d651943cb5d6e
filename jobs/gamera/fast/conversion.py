"""Gamera 4.1.0's image conversions and ``invert`` on NumPy, pixel for pixel.

Gamera's rules (``image_conversion.hpp``, ``pixel.hpp``): one-bit white
becomes the target's white (255, 65535, (255, 255, 255)) and black 0;
colour becomes VIGRA's luminance ``0.3·R + 0.59·G + 0.11·B`` in double,
rounded half up; 16-bit grey is scaled by ``255 / max`` (max over the
image) and truncated; 8-bit grey is copied into 16 bits unchanged; a
conversion to the same type copies. ``invert`` is ``max - v`` per channel;
Gamera's 16-bit pixels are 32-bit integers, so through the bridge that is
``65535 - v`` too. Conversion to one-bit is greyscale, then Otsu.
Arrays are ``rodan.imaging``'s pixel types (one-bit: True = white).
"""

import cv2
import numpy as np

from rodan.imaging import pixel_type, require_pixel_type

from . import otsu_threshold

KINDS = ("rgb", "onebit", "greyscale", "grey16")


#: VIGRA's luminance weights times 100, as a filter over a row's interleaved R, G, B bytes.
_WEIGHTS = np.array([[30, 59, 11]], np.float32)


def luminance(rgb):
    """VIGRA's ``RGBValue::luminance`` of every pixel of an RGB array, as uint8.

    Gamera evaluates ``(0.3·R + 0.59·G) + 0.11·B`` in double and rounds by
    adding 0.5 and truncating. The exact value is S / 100 with the integer
    S = 30·R + 59·G + 11·B, which OpenCV's filter2D computes exactly over
    each row's interleaved bytes (every third result is a pixel's; faster
    than ``cv2.transform``'s float path). Unless S / 100 lies exactly
    half-way between two integers, rounding S / 100 ± 0.005 gives Gamera's
    level; at the half-way values (a few pixels in a thousand on a page)
    the two differ, and there the double expression itself decides, as in
    Gamera.
    """
    rgb = np.ascontiguousarray(require_pixel_type(rgb, "rgb"))
    height, width = rgb.shape[:2]
    weighted = cv2.filter2D(rgb.reshape(height, 3 * width), cv2.CV_16S, _WEIGHTS, anchor=(0, 0),
                            borderType=cv2.BORDER_CONSTANT)
    sums = cv2.extractChannel(weighted.reshape(height, width, 3), 0)
    grey = cv2.convertScaleAbs(sums, alpha=0.01, beta=-0.005)
    above = cv2.convertScaleAbs(sums, alpha=0.01, beta=0.005)
    ties = cv2.findNonZero(cv2.compare(grey, above, cv2.CMP_NE))
    if ties is not None:
        cols, rows = ties.reshape(-1, 2).T
        red, green, blue = rgb[rows, cols].astype(np.float64).T
        grey[rows, cols] = np.clip(0.3 * red + 0.59 * green + 0.11 * blue, 0.0, 255.0) + 0.5
    return grey


def _grey16_scaled(grey16):
    """Gamera's 16-bit → 8-bit rule: v · (255.0 / max) truncated, all 0 for a black image."""
    top = int(grey16.max())
    scale = 255.0 / top if top > 0 else 0.0
    table = (np.arange(65536, dtype=np.float64) * scale).astype(np.uint8)
    return table[grey16]


def to_greyscale(image):
    """Gamera's ``to_greyscale`` of any of the four PNG pixel types."""
    kind = pixel_type(require_pixel_type(image, *KINDS))
    if kind == "greyscale":
        return image.copy()
    if kind == "onebit":
        return np.where(image, np.uint8(255), np.uint8(0))
    if kind == "grey16":
        return _grey16_scaled(image)
    return luminance(image)


def to_rgb(image):
    """Gamera's ``to_rgb``: grey values (16-bit ones scaled as ``to_greyscale``) in all three channels."""
    kind = pixel_type(require_pixel_type(image, *KINDS))
    if kind == "rgb":
        return image.copy()
    return cv2.cvtColor(np.ascontiguousarray(to_greyscale(image)), cv2.COLOR_GRAY2RGB)


def to_grey16(image):
    """Gamera's ``to_grey16``: 8-bit values and luminance unchanged, one-bit white 65535."""
    kind = pixel_type(require_pixel_type(image, *KINDS))
    if kind == "grey16":
        return image.copy()
    if kind == "onebit":
        return np.where(image, np.uint16(65535), np.uint16(0))
    return to_greyscale(image).astype(np.uint16)


def to_onebit(image):
    """Gamera's ``to_onebit``: a copy of a one-bit image, otherwise ``to_greyscale`` then Otsu."""
    kind = pixel_type(require_pixel_type(image, *KINDS))
    if kind == "onebit":
        return image.copy()
    return otsu_threshold(image if kind == "greyscale" else to_greyscale(image))


def invert(image):
    """Gamera's ``invert``: black ↔ white, and max - v for grey and every colour channel."""
    require_pixel_type(image, *KINDS)
    return ~image
