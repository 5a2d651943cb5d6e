"""Image conversion jobs: PNG flavours, resizing and TIFF.

Their names ("To RGB PNG", ...) differ from the Gamera catalogue's
conversion jobs, which keep Gamera's names and pixels. These accept any
image Pillow reads and write exactly the PNG flavour their output port
promises, through ``rodan.imaging``. Every output entry gets the result, as
Rodan's own conversion jobs do when an output port is used twice.
"""

import numpy as np
from PIL import Image, features

from rodan.identify import identify
from rodan.imaging import ImageError, check_pixel_count, load_image, pixel_type, save_png, save_tiff
from rodan.jobs import kit
from rodan.jobs.base import RodanTask

CATEGORY = "Image Conversion"
INPUT_PORT = "Image"


def _pillow_reads(mimetype):
    """Port predicate: the registered image types, JPEG 2000 only if this Pillow has OpenJPEG."""
    if mimetype == "image/jp2":
        return features.check("jpg_2000")
    return mimetype.startswith("image/")


def _is_png(mimetype):
    """Port predicate: the six PNG types (plain, rgb, rgba, onebit, greyscale, grey16)."""
    return mimetype.endswith("png")


def _sample_image():
    """A small colour image for self-tests: a gradient with a dark block, 7×5 (odd sizes on purpose)."""
    rows, cols = np.mgrid[0:5, 0:7]
    rgb = np.stack([cols * 36, rows * 60, np.full_like(rows, 200)], axis=2).astype(np.uint8)
    rgb[1:3, 2:4] = (10, 20, 30)
    return rgb


def _self_test(job, testcase, output_port, output_type, settings=None):
    """Run ``job`` on the sample image, check the output's type by content, and return its pixels."""
    source = testcase.new_available_path()
    save_png(_sample_image(), source, "image/rgb+png")
    output = testcase.new_available_path()
    job.run_my_task(
        {INPUT_PORT: [{"resource_path": source, "resource_type": "image/rgb+png", "resource_name": "sample"}]},
        settings or {},
        {output_port: [{"resource_path": output, "resource_type": output_type}]},
    )
    testcase.assertEqual(identify(output), output_type)
    return load_image(output)


class ToRgbPng(RodanTask):
    name = "To RGB PNG"
    author = "Rodan contributors"
    description = "Convert any image to an 8-bit RGB PNG. Transparent areas are flattened on white."
    category = CATEGORY
    settings = kit.settings_schema()
    input_port_types = [kit.port(INPUT_PORT, _pillow_reads)]
    output_port_types = [kit.port("RGB PNG image", ["image/rgb+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        kit.write_png(outputs, "RGB PNG image", kit.load(inputs, INPUT_PORT))
        return True

    def test_my_task(self, testcase):
        result = _self_test(self, testcase, "RGB PNG image", "image/rgb+png")
        testcase.assertTrue(np.array_equal(result, _sample_image()))


class ToGreyscalePng(RodanTask):
    name = "To greyscale PNG"
    author = "Rodan contributors"
    description = (
        "Convert any image to an 8-bit greyscale PNG. Colour becomes ITU-R 601-2 luma, "
        "16-bit values are scaled to 8 bits, transparent areas are flattened on white."
    )
    category = CATEGORY
    settings = kit.settings_schema()
    input_port_types = [kit.port(INPUT_PORT, _pillow_reads)]
    output_port_types = [kit.port("Greyscale PNG image", ["image/greyscale+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        kit.write_png(outputs, "Greyscale PNG image", kit.load(inputs, INPUT_PORT))
        return True

    def test_my_task(self, testcase):
        result = _self_test(self, testcase, "Greyscale PNG image", "image/greyscale+png")
        testcase.assertEqual(result.shape, (5, 7))
        testcase.assertEqual(int(result[1, 2]), round(0.299 * 10 + 0.587 * 20 + 0.114 * 30))


class ToOnebitPng(RodanTask):
    name = "To one-bit PNG"
    author = "Rodan contributors"
    description = (
        "Convert any image to a one-bit (black and white) PNG with Otsu's global threshold "
        "(Otsu 1979): pixels lighter than the threshold become white."
    )
    category = CATEGORY
    settings = kit.settings_schema()
    input_port_types = [kit.port(INPUT_PORT, _pillow_reads)]
    output_port_types = [kit.port("One-bit PNG image", ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        kit.write_png(outputs, "One-bit PNG image", kit.load(inputs, INPUT_PORT))
        return True

    def test_my_task(self, testcase):
        result = _self_test(self, testcase, "One-bit PNG image", "image/onebit+png")
        testcase.assertFalse(result[1:3, 2:4].any())  # the dark block is black
        testcase.assertTrue(result[4, 6])  # the lightest corner is white


RESIZE_SETTINGS = kit.settings_schema(
    properties={
        "Scale": {
            "type": "number",
            "default": 0.5,
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 8,
            "description": "Factor applied to both sides when Width and Height are 0.",
        },
        "Width": {
            "type": "integer",
            "default": 0,
            "minimum": 0,
            "description": "Width in pixels; 0 follows Height's aspect ratio (or Scale).",
        },
        "Height": {
            "type": "integer",
            "default": 0,
            "minimum": 0,
            "description": "Height in pixels; 0 follows Width's aspect ratio (or Scale).",
        },
    }
)


def target_size(width, height, settings):
    """The (width, height) a Resize image run produces for an image of ``width`` × ``height``.

    Width and Height win over Scale when either is set; setting only one
    keeps the aspect ratio. Settings missing from ``settings`` take the
    schema defaults, since Rodan does not re-apply them (rodan-compat.md §4.3).
    """
    new_width = int(kit.setting(settings, RESIZE_SETTINGS, "Width") or 0)
    new_height = int(kit.setting(settings, RESIZE_SETTINGS, "Height") or 0)
    if new_width < 0 or new_height < 0:
        raise ValueError(f"Width and Height must not be negative, got {new_width}×{new_height}")
    if new_width and not new_height:
        new_height = max(1, round(height * new_width / width))
    elif new_height and not new_width:
        new_width = max(1, round(width * new_height / height))
    elif not new_width and not new_height:
        scale = float(kit.setting(settings, RESIZE_SETTINGS, "Scale"))
        if not 0 < scale <= 8:
            raise ValueError(f"Scale must be above 0 and at most 8, got {scale}")
        new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    return new_width, new_height


def resize(image, size):
    """``image`` resized to ``size`` (width, height): nearest pixel for one-bit, Lanczos otherwise.

    Pillow resamples RGBA with premultiplied alpha, so transparent pixels do
    not bleed their colour into the edges, and 16-bit greyscale at full depth.
    """
    if pixel_type(image) is None:
        raise ImageError(f"cannot resize an array of {image.dtype} with shape {image.shape}")
    method = Image.Resampling.NEAREST if image.dtype == bool else Image.Resampling.LANCZOS
    resized = np.array(Image.fromarray(image).resize(size, method))
    return resized.astype(image.dtype, copy=False)


class ResizeImage(RodanTask):
    name = "Resize image"
    author = "Rodan contributors"
    description = (
        "Resize a PNG image by a scale factor, or to a width and/or height in pixels (0 keeps the "
        "aspect ratio). Greyscale and colour images use Lanczos resampling; one-bit images use the "
        "nearest pixel so they stay black and white."
    )
    category = CATEGORY
    settings = RESIZE_SETTINGS
    input_port_types = [kit.port(INPUT_PORT, _is_png)]
    output_port_types = [kit.port("Resized image", _is_png, 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        image = kit.load(inputs, INPUT_PORT)
        size = target_size(image.shape[1], image.shape[0], settings)
        check_pixel_count(*size)
        kit.write_png(outputs, "Resized image", resize(image, size))
        return True

    def test_my_task(self, testcase):
        result = _self_test(self, testcase, "Resized image", "image/rgb+png", {"Width": 14})
        testcase.assertEqual(result.shape, (10, 14, 3))


class ToTiff(RodanTask):
    name = "To TIFF"
    author = "Rodan contributors"
    description = (
        "Convert any image to a lossless TIFF with the same pixels: CCITT Group 4 compression "
        "for one-bit images, Deflate for the others."
    )
    category = CATEGORY
    settings = kit.settings_schema()
    input_port_types = [kit.port(INPUT_PORT, _pillow_reads)]
    output_port_types = [kit.port("TIFF image", ["image/tiff"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        image = kit.load(inputs, INPUT_PORT)
        kit.write_each(outputs, "TIFF image", lambda path, resource_type: save_tiff(image, path))
        return True

    def test_my_task(self, testcase):
        result = _self_test(self, testcase, "TIFF image", "image/tiff")
        testcase.assertTrue(np.array_equal(result, _sample_image()))
