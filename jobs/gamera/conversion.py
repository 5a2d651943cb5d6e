"""Gamera's image conversion jobs and Invert.

The fast engine (``fast.conversion``) keeps Gamera's exact rules: VIGRA's
luminance for colour, 16-bit grey scaled by its maximum, greyscale values
copied unchanged into grey16, Otsu for one-bit, complement for Invert.
"""

from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, write_png

from . import engine
from .common import ANY_PNG, run_gamera, settings_schema
from .fast import conversion as fast_conversion

CONVERSION = "Image Conversion"
PNG_IN = "PNG image"
KINDS = ("rgb", "onebit", "greyscale", "grey16")


class ConversionJob(RodanTask):
    """What the conversions and Invert share: one PNG in, Gamera's plugin ``method`` (or its fast twin), one PNG out."""

    author = "Rodan contributors"
    category = CONVERSION
    settings = settings_schema()
    input_port_types = [port(PNG_IN, ANY_PNG)]
    #: The name of both Gamera's plugin and the ``fast.conversion`` function.
    method = None

    def run_my_task(self, inputs, settings, outputs):
        image = load(inputs, PNG_IN, *KINDS)
        result = getattr(fast_conversion, self.method)(image) if engine.use_fast() else run_gamera(self.method, image)
        write_png(outputs, self.output_port_types[0]["name"], result)
        return True


class ConvertToRgb(ConversionJob):
    name = "Convert to RGB PNG"
    description = (
        "Convert a PNG to RGB as Gamera does: one-bit black becomes (0,0,0) and white (255,255,255); grey gives R=G=B."
    )
    method = "to_rgb"
    output_port_types = [port("RGB PNG image", ["image/rgb+png"], 1, 2)]


class ConvertToGreyscale(ConversionJob):
    name = "Convert to greyscale PNG"
    description = (
        "Convert a PNG to 8-bit greyscale as Gamera does: colour by VIGRA's luminance 0.3R + 0.59G + 0.11B, "
        "16-bit grey scaled from [0, max] to [0, 255]."
    )
    method = "to_greyscale"
    output_port_types = [port("Greyscale PNG image", ["image/greyscale+png"], 1, 2)]


class ConvertToGrey16(ConversionJob):
    name = "Convert to greyscale 16 PNG"
    description = (
        "Convert a PNG to 16-bit greyscale as Gamera does: 8-bit grey values are copied unchanged (so they "
        "stay within 0-255), one-bit white becomes 65535."
    )
    method = "to_grey16"
    output_port_types = [port("Greyscale 16 PNG image", ["image/grey16+png"], 1, 2)]


class ConvertToOnebit(ConversionJob):
    name = "Convert to one-bit (black and white) PNG"
    description = "Convert a PNG to one-bit as Gamera does: to greyscale first, then Otsu's threshold."
    method = "to_onebit"
    output_port_types = [port("One-bit PNG image", ["image/onebit+png"], 1, 2)]


class Invert(ConversionJob):
    name = "Invert"
    description = "Invert the image: black becomes white and every grey or colour value v becomes its maximum - v."
    category = "Image Utilities"
    method = "invert"
    output_port_types = [port(PNG_IN, ANY_PNG, 1, 2)]
