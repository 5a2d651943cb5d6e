"""Gamera's image conversion jobs and Invert.

The fast engine (``fast.conversion``) keeps Gamera's exact rules: VIGRA's
luminance for colour, 16-bit grey scaled by its maximum, greyscale values
copied unchanged into grey16, Otsu for one-bit, complement for Invert.
"""

from rodan.jobs.base import RodanTask

from . import engine
from .common import ANY_PNG, load, port, run_gamera, save, settings_schema
from .fast import conversion as fast_conversion

CONVERSION = "Image Conversion"
PNG_IN = "PNG image"
KINDS = ("rgb", "onebit", "greyscale", "grey16")


def _conversion(class_name, job_name, method, out_name, out_type, text):
    def run_my_task(self, inputs, settings, outputs):
        image = load(inputs, PNG_IN, *KINDS)
        result = getattr(fast_conversion, method)(image) if engine.use_fast() else run_gamera(method, image)
        save(result, outputs, out_name)
        return True

    return type(
        class_name,
        (RodanTask,),
        {
            "__module__": __name__,
            "__doc__": text,
            "name": job_name,
            "author": "Rodan contributors",
            "description": text,
            "category": CONVERSION,
            "settings": settings_schema(),
            "input_port_types": [port(PNG_IN, ANY_PNG)],
            "output_port_types": [port(out_name, [out_type], 1, 2)],
            "run_my_task": run_my_task,
        },
    )


ConvertToRgb = _conversion(
    "ConvertToRgb",
    "Convert to RGB PNG",
    "to_rgb",
    "RGB PNG image",
    "image/rgb+png",
    "Convert a PNG to RGB as Gamera does: one-bit black becomes (0,0,0) and white (255,255,255); grey gives R=G=B.",
)
ConvertToGreyscale = _conversion(
    "ConvertToGreyscale",
    "Convert to greyscale PNG",
    "to_greyscale",
    "Greyscale PNG image",
    "image/greyscale+png",
    "Convert a PNG to 8-bit greyscale as Gamera does: colour by VIGRA's luminance 0.3R + 0.59G + 0.11B, "
    "16-bit grey scaled from [0, max] to [0, 255].",
)
ConvertToGrey16 = _conversion(
    "ConvertToGrey16",
    "Convert to greyscale 16 PNG",
    "to_grey16",
    "Greyscale 16 PNG image",
    "image/grey16+png",
    "Convert a PNG to 16-bit greyscale as Gamera does: 8-bit grey values are copied unchanged (so they "
    "stay within 0-255), one-bit white becomes 65535.",
)
ConvertToOnebit = _conversion(
    "ConvertToOnebit",
    "Convert to one-bit (black and white) PNG",
    "to_onebit",
    "One-bit PNG image",
    "image/onebit+png",
    "Convert a PNG to one-bit as Gamera does: to greyscale first, then Otsu's threshold.",
)


class Invert(RodanTask):
    name = "Invert"
    author = "Rodan contributors"
    description = "Invert the image: black becomes white and every grey or colour value v becomes its maximum - v."
    category = "Image Utilities"
    settings = settings_schema()
    input_port_types = [port(PNG_IN, ANY_PNG)]
    output_port_types = [port(PNG_IN, ANY_PNG, 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        image = load(inputs, PNG_IN, *KINDS)
        result = fast_conversion.invert(image) if engine.use_fast() else run_gamera("invert", image)
        save(result, outputs, PNG_IN)
        return True
