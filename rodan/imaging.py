"""Image I/O and pixel-type conversions shared by every image job.

Jobs work on NumPy arrays of five *pixel types*, one per PNG flavour Rodan
registers (rodan-compat.md §6.1):

=========  ======================  ============================================
name       array                   PNG resource type
=========  ======================  ============================================
onebit     bool, (H, W)            image/onebit+png (True = white, as in Pillow)
greyscale  uint8, (H, W)           image/greyscale+png
grey16     uint16, (H, W)          image/grey16+png
rgb        uint8, (H, W, 3)        image/rgb+png
rgba       uint8, (H, W, 4)        image/rgba+png
=========  ======================  ============================================

``load_image`` turns any file Pillow reads into one of these arrays (8-bit
colour PNGs through OpenCV's faster decoder), refusing oversized, truncated
and corrupt files with an ``ImageError`` a user can act on. ``save_png`` writes an array as exactly one PNG flavour (with OpenCV,
the faster encoder). The ``to_*`` helpers convert between pixel types so
that a job can accept any image and still produce the flavour its output
port promises.
"""

import contextlib
import os
import struct
import threading

import cv2
import numpy as np
from PIL import Image, ImageFile

#: Environment variable holding the largest image, in pixels, we agree to decode.
MAX_PIXELS_ENV = "RODAN_MAX_IMAGE_PIXELS"
DEFAULT_MAX_PIXELS = 300_000_000

#: zlib level of every PNG we write; see ``save_png`` for the measurements behind it.
PNG_COMPRESS_LEVEL = 1
#: zlib strategy per pixel type of the PNGs we write (``save_png``).
PNG_STRATEGIES = {
    "onebit": cv2.IMWRITE_PNG_STRATEGY_RLE,
    "greyscale": cv2.IMWRITE_PNG_STRATEGY_RLE,
    "grey16": cv2.IMWRITE_PNG_STRATEGY_DEFAULT,
    "rgb": cv2.IMWRITE_PNG_STRATEGY_DEFAULT,
    "rgba": cv2.IMWRITE_PNG_STRATEGY_DEFAULT,
}

#: The pixel type each Rodan PNG flavour holds; plain image/png holds whichever it is given.
PNG_PIXEL_TYPES = {
    "image/onebit+png": "onebit",
    "image/greyscale+png": "greyscale",
    "image/grey16+png": "grey16",
    "image/rgb+png": "rgb",
    "image/rgba+png": "rgba",
    "image/png": None,
}

# Each with its article, for messages.
_DESCRIPTIONS = {
    "onebit": "a one-bit (black and white) image",
    "greyscale": "an 8-bit greyscale image",
    "grey16": "a 16-bit greyscale image",
    "rgb": "an RGB colour image",
    "rgba": "an RGBA image (colour with alpha)",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The PNG signature and the IHDR chunk up to its colour type: enough to choose a decoder.
_PNG_HEAD_BYTES = 26

# Pillow's decompression-bomb guard and its truncated-file switch are process-wide
# globals. We set both for the duration of one decode, under this lock, so that
# our limit (not Pillow's 89 Mpx default) applies and truncation is never ignored.
_PILLOW_GLOBALS_LOCK = threading.Lock()


class ImageError(ValueError):
    """An image a job cannot use: too large, unreadable, or of the wrong pixel type.

    The message is meant for the person who uploaded the file, so it says what
    is wrong and, where it can, what to do about it.
    """


# -- reading ------------------------------------------------------------------


def max_image_pixels():
    """The pixel limit from ``RODAN_MAX_IMAGE_PIXELS``, read now so tests and operators can change it."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        limit = int(float(raw.replace("_", "")))
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ImageError(f"{MAX_PIXELS_ENV} must be a positive number of pixels, not {raw!r}")
    return limit


def _mpx(pixels):
    """Pixels as megapixels for messages: '1600', '300.016', '0.25'."""
    return f"{pixels / 1e6:.6g}"


def check_pixel_count(width, height, limit=None):
    """Refuse a width × height above the configured limit, before any memory is spent on it."""
    limit = max_image_pixels() if limit is None else limit
    if width <= 0 or height <= 0:
        raise ImageError(f"image is {width}×{height}: it has no pixels")
    if width * height > limit:
        raise ImageError(
            f"image is {width}×{height} = {_mpx(width * height)} Mpx, "
            f"above the limit of {_mpx(limit)} Mpx ({MAX_PIXELS_ENV})"
        )


@contextlib.contextmanager
def _strict_pillow():
    """Pillow with its own pixel guard off (ours replaces it) and truncated files refused.

    Both settings are globals another library may have changed; they are put
    back afterwards. The lock serialises decodes between threads of one
    process, which costs nothing in Celery's prefork workers.
    """
    with _PILLOW_GLOBALS_LOCK:
        saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = None, False
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def load_image(path, name=None):
    """Decode the image at ``path`` into an array of one of the five pixel types.

    The size in the header is checked against ``max_image_pixels()`` before
    decoding, so a decompression bomb costs nothing. Multi-page files give
    their first page. Palette images become rgb (rgba when they carry
    transparency), grey+alpha becomes rgba, CMYK/YCbCr/LAB/HSV become rgb.
    ``name`` (e.g. the resource name) is used in error messages instead of the path.

    Raises ImageError for empty, truncated, corrupt or oversized files and
    for pixel formats no job handles (floating point, 32-bit integers beyond
    16 bits). Filesystem errors (missing file, permissions) propagate as is.
    """
    label = name or os.path.basename(path)
    with open(path, "rb") as stream:
        head = stream.read(_PNG_HEAD_BYTES)
        if not head:
            raise ImageError(f"{label} is empty (0 bytes), not an image")
        colour = _colour_png(head, stream)
        if colour is not None:
            return colour
        stream.seek(0)
        with _strict_pillow():
            try:
                image = Image.open(stream)
            except (OSError, SyntaxError, ValueError) as exc:
                raise ImageError(f"{label} is not an image we can read (PNG, JPEG, TIFF, JPEG 2000, ...)") from exc
            with image:
                check_pixel_count(*image.size)
                try:
                    image.load()
                except (OSError, SyntaxError, ValueError, EOFError) as exc:
                    raise ImageError(f"{label} is a corrupt or truncated {image.format} image ({exc})") from exc
                return _array_of(image, label)


def _colour_png(head, stream):
    """The array of an 8-bit RGB or RGBA PNG decoded by OpenCV, or None to let Pillow decode the file.

    OpenCV's libpng decodes these 20-25 % faster than Pillow (an A4 page at
    300 dpi: RGB 100 ms instead of 125 ms). Other PNGs and other formats,
    and any file OpenCV cannot decode completely (truncated, corrupt), go
    to Pillow, which reads them all and says what is wrong. OpenCV, like
    Pillow, ignores an RGB image's tRNS chunk and gives an APNG's first frame.
    """
    if head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR" or len(head) < _PNG_HEAD_BYTES:
        return None
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", head[16:26])
    channels = {2: 3, 6: 4}.get(colour_type)
    if bit_depth != 8 or channels is None:
        return None
    check_pixel_count(width, height)
    data = np.frombuffer(head + stream.read(), np.uint8)
    try:
        pixels = cv2.imdecode(data, cv2.IMREAD_COLOR_RGB if channels == 3 else cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    if pixels is None or pixels.shape != (height, width, channels):
        return None
    return pixels if channels == 3 else cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)


def _array_of(image, label):
    """The array of a loaded Pillow image, in one of the five pixel types, writable."""
    mode = image.mode
    if mode in ("1", "L", "RGB", "RGBA"):
        return np.array(image)
    if mode.startswith("I;16"):
        return np.array(image).astype(np.uint16)
    if mode == "I":
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ImageError(f"{label} has 32-bit integer pixels beyond the 16-bit range; convert it to 16-bit first")
        return values.astype(np.uint16)
    if mode in ("LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in image.info):
        return np.array(image.convert("RGBA"))
    if mode in ("P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return np.array(image.convert("RGB"))
    raise ImageError(f"{label} has pixels of Pillow mode {mode!r}, which no image job handles")


# -- pixel types --------------------------------------------------------------


def pixel_type(array):
    """The pixel type name of ``array`` ('onebit', 'greyscale', ...), or None if it is none of them."""
    if array.ndim == 2:
        return {np.dtype(bool): "onebit", np.dtype(np.uint8): "greyscale", np.dtype(np.uint16): "grey16"}.get(
            array.dtype
        )
    if array.ndim == 3 and array.dtype == np.uint8:
        return {3: "rgb", 4: "rgba"}.get(array.shape[2])
    return None


def _kind(array):
    """The pixel type of ``array``; ImageError when it is not an image at all."""
    kind = pixel_type(array)
    if kind is None:
        raise ImageError(f"expected an image, got {_describe(array)}")
    return kind


def _describe(array):
    kind = pixel_type(array)
    if kind is None:
        return f"an array of {array.dtype} with shape {array.shape}, which is not an image pixel type"
    return _DESCRIPTIONS[kind]


def require_pixel_type(array, *expected):
    """Return ``array`` if its pixel type is one of ``expected``, else raise a clear ImageError.

    ``expected`` holds pixel type names or PNG mimetypes ('onebit',
    'image/onebit+png'). Jobs that only make sense on one kind of image call
    this first, so a wrong input fails with a sentence rather than a NumPy
    broadcasting error deep inside the job.
    """
    wanted = [PNG_PIXEL_TYPES.get(kind, kind) for kind in expected]
    unknown = [kind for kind in wanted if kind not in _DESCRIPTIONS]
    if unknown:
        raise ValueError(f"unknown pixel types: {unknown}")
    if pixel_type(array) not in wanted:
        needed = " or ".join(_DESCRIPTIONS[kind] for kind in wanted)
        raise ImageError(f"expected {needed}, got {_describe(array)}; convert the image first")
    return array


def _flatten_on_white(rgba):
    """RGB of an RGBA array composited over white paper, where a transparent scan shows the page."""
    alpha = rgba[..., 3:4].astype(np.uint32)
    rgb = rgba[..., :3].astype(np.uint32)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def to_greyscale(array):
    """8-bit greyscale of any pixel type.

    Colour uses ITU-R 601-2 luma (Pillow's 'L' conversion, computed by
    Pillow); alpha is flattened on white first; 16-bit values are scaled by
    255/65535 with rounding (Pillow's own I;16→L clips instead).
    """
    kind = _kind(array)
    if kind == "greyscale":
        return array
    if kind == "onebit":
        return np.where(array, np.uint8(255), np.uint8(0))
    if kind == "grey16":
        return ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    rgb = _flatten_on_white(array) if kind == "rgba" else array
    return np.asarray(Image.fromarray(rgb).convert("L")).copy()


def to_grey16(array):
    """16-bit greyscale of any pixel type; 8-bit values v become v × 257 so white stays 65535."""
    if pixel_type(array) == "grey16":
        return array
    return to_greyscale(array).astype(np.uint16) * np.uint16(257)


def to_rgb(array):
    """RGB of any pixel type: grey values are repeated, alpha is flattened on white."""
    kind = _kind(array)
    if kind == "rgb":
        return array
    if kind == "rgba":
        return _flatten_on_white(array)
    return np.repeat(to_greyscale(array)[..., np.newaxis], 3, axis=2)


def to_rgba(array):
    """RGBA of any pixel type, fully opaque unless it already had alpha."""
    if pixel_type(array) == "rgba":
        return array
    rgb = to_rgb(array)
    opaque = np.full(rgb.shape[:2] + (1,), 255, dtype=np.uint8)
    return np.concatenate([rgb, opaque], axis=2)


def otsu_threshold(grey):
    """Otsu's threshold of an 8- or 16-bit greyscale array.

    N. Otsu, "A threshold selection method from gray-level histograms",
    IEEE Trans. Systems, Man, and Cybernetics 9(1):62-66, 1979: the level t
    that maximises the between-class variance of {v <= t} and {v > t}. The
    full histogram is used (65536 bins for 16-bit), so no precision is lost
    by scaling first. Ties go to the lowest t, so a two-level image splits
    between its two levels. An image with a single level returns that level.
    """
    require_pixel_type(grey, "greyscale", "grey16")
    hist = np.bincount(grey.ravel(), minlength=256 if grey.dtype == np.uint8 else 65536).astype(np.float64)
    levels = np.arange(hist.size, dtype=np.float64)
    weight_low = np.cumsum(hist)
    sum_low = np.cumsum(hist * levels)
    total, total_sum = weight_low[-1], sum_low[-1]
    weight_high = total - weight_low
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = sum_low / weight_low
        mean_high = (total_sum - sum_low) / weight_high
        between = weight_low * weight_high * (mean_low - mean_high) ** 2
    between[~np.isfinite(between)] = -1.0
    if between.max() <= 0:  # one level only: nothing to separate
        return int(grey.flat[0])
    return int(np.argmax(between))


def to_onebit(array):
    """One-bit image of any pixel type, by Otsu's global threshold (see ``otsu_threshold``).

    Pixels above the threshold become white (True), the others black. A
    single-level image becomes white if that level is in the upper half of
    its range (a blank page) and black otherwise.
    """
    kind = _kind(array)
    if kind == "onebit":
        return array
    grey = array if kind == "grey16" else to_greyscale(array)
    if (grey == grey.flat[0]).all():
        return np.full(grey.shape, grey.flat[0] > np.iinfo(grey.dtype).max // 2, dtype=bool)
    return grey > otsu_threshold(grey)


_CONVERTERS = {
    "onebit": to_onebit,
    "greyscale": to_greyscale,
    "grey16": to_grey16,
    "rgb": to_rgb,
    "rgba": to_rgba,
}


def convert_for(array, resource_type):
    """``array`` converted to the pixel type a PNG resource type holds (image/png: unchanged)."""
    if resource_type not in PNG_PIXEL_TYPES:
        raise ValueError(f"{resource_type} is not a PNG resource type")
    kind = PNG_PIXEL_TYPES[resource_type]
    return array if kind is None else _CONVERTERS[kind](array)


# -- writing ------------------------------------------------------------------


def save_png(array, path, resource_type):
    """Write ``array`` to ``path`` (exactly: Rodan output paths have no extension) as a PNG flavour.

    The array must already hold the flavour's pixel type (``convert_for``
    makes it so): onebit → 1-bit grey, greyscale → 8-bit grey, grey16 →
    16-bit grey, rgb → 8-bit RGB, rgba → 8-bit RGBA. Plain image/png writes
    whichever of those the array is.

    OpenCV's libpng encoder at zlib level 1 (``PNG_COMPRESS_LEVEL``), with
    zlib's run-length strategy for one-bit and 8-bit grey
    (``PNG_STRATEGIES``), because encoding dominates cheap jobs. On an A4
    page at 300 dpi with scanner-like noise, against Pillow at level 1
    (its previous setting here): one-bit 12 ms instead of 30-45 ms and
    0.22 MB instead of 0.27 MB; greyscale about 250 ms instead of 600 ms
    and 6.3 MB instead of 6.7 MB (noise leaves LZ77 nothing to match, so
    run-length coding loses nothing); 16-bit and RGB 20-30 % faster for
    files 8-10 % larger (there run-length coding would add 25-55 %).
    Higher levels cost 3-4× the time for a few per cent.
    """
    if resource_type not in PNG_PIXEL_TYPES:
        raise ValueError(f"{resource_type} is not a PNG resource type")
    kind = PNG_PIXEL_TYPES[resource_type]
    if kind is None:
        kind = pixel_type(array)
        if kind is None:
            raise ImageError(f"cannot save {_describe(array)} as PNG")
    require_pixel_type(array, kind)
    params = [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESS_LEVEL, cv2.IMWRITE_PNG_STRATEGY, PNG_STRATEGIES[kind]]
    pixels = np.ascontiguousarray(array)
    if kind == "onebit":
        # 1-bit output; OpenCV writes every non-zero byte as white (Pillow's True bytes are 255).
        pixels = pixels.view(np.uint8)
        params += [cv2.IMWRITE_PNG_BILEVEL, 1]
    elif kind == "rgb":
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    elif kind == "rgba":
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
    encoded, data = cv2.imencode(".png", pixels, params)
    if not encoded:
        raise ImageError(f"could not encode {_describe(array)} as PNG")
    with open(path, "wb") as stream:
        stream.write(data)


def save_tiff(array, path):
    """Write ``array`` (any pixel type) to ``path`` as a losslessly compressed TIFF.

    One-bit images use CCITT Group 4, the fax compression made for black and
    white pages; the others use Deflate, read by every TIFF reader in use.
    """
    kind = _kind(array)
    compression = "group4" if kind == "onebit" else "tiff_adobe_deflate"
    Image.fromarray(array).save(path, format="TIFF", compression=compression)
