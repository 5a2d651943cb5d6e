"""Skew correction: Gamera's projection-based skew estimate, then Gamera's rotation.

Not in Rodan's catalogue; a job in its style around two Gamera plugins:
``rotation_angle_projections`` (which needs a one-bit image: other pages are
estimated on Gamera's ``to_onebit`` of them, Otsu's threshold) and
``rotate(angle, white, order 1)``, which turns the page in its own pixel
type with bilinear interpolation and makes it larger, with white margins,
so that the turned corners fit. The fast engine (``fast.skew``) gives the
same angle and the same pixels.
"""

from rodan.imaging import ImageError, pixel_type
from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, setting, write_json, write_png

from . import engine
from .common import ANY_PNG, settings_schema
from .fast import skew

PNG_IN = "PNG image"
PNG_OUT = "PNG image"
ANGLE_OUT = "Skew angle (JSON)"
KINDS = ("rgb", "onebit", "greyscale", "grey16")


def _angle(default, description):
    return {
        "type": "number",
        "minimum": -skew.MAX_ANGLE,
        "maximum": skew.MAX_ANGLE,
        "default": default,
        "description": description,
    }


def gamera_correct_skew(image, minangle, maxangle, accuracy):
    """``fast.skew.correct_skew`` done by Gamera: its ``to_onebit``, its estimate, its ``rotate``."""
    skew.check_size(image)
    skew.check_range(minangle, maxangle, accuracy)
    page = engine.to_gamera(image)
    onebit = page if pixel_type(image) == "onebit" else page.to_onebit()
    if not engine.from_gamera(onebit).all():
        try:
            angle, accuracy = onebit.rotation_angle_projections(minangle, maxangle, accuracy)
        except RuntimeError:  # Gamera's "maximum found on interval end"
            raise ImageError(skew.range_end_message(minangle, maxangle)) from None
        return engine.from_gamera(page.rotate(angle, None, 1)), angle, accuracy
    return image.copy(), 0.0, skew.default_accuracy(image.shape[1], accuracy)


class CorrectSkew(RodanTask):
    name = "Correct Skew"
    author = "Rodan contributors"
    description = (
        "Straighten a page: estimate its skew from skewed projections of the black pixels (Dalitz, Michalakis "
        "and Pranzas, IJDAR 11, 2008) and rotate it back, as Gamera does. Colour and greyscale pages are "
        "estimated on their Otsu binarization and rotated with bilinear interpolation; the page grows so that "
        "the rotated corners fit, with white margins. A page without black pixels is left as it is."
    )
    category = "Image Utilities"
    settings = settings_schema(
        "Skew correction settings",
        **{
            "Minimum angle": _angle(-2.5, "The smallest skew angle searched, in degrees."),
            "Maximum angle": _angle(2.5, "The largest skew angle searched, in degrees."),
            "Accuracy": {
                "type": "number",
                "minimum": 0,
                "default": 0,
                "description": "The error bound of the angle estimate in degrees; 0 chooses about "
                "half a pixel across the page width.",
            },
        },
    )
    input_port_types = [port(PNG_IN, ANY_PNG)]
    output_port_types = [port(PNG_OUT, ANY_PNG, 1, 2), port(ANGLE_OUT, ["application/json"], 0, 1)]

    def run_my_task(self, inputs, settings, outputs):
        image = load(inputs, PNG_IN, *KINDS)
        args = tuple(float(setting(settings, self.settings, n)) for n in ("Minimum angle", "Maximum angle", "Accuracy"))
        correct = skew.correct_skew if engine.use_fast() else gamera_correct_skew
        rotated, angle, accuracy = correct(image, *args)
        write_png(outputs, PNG_OUT, rotated)
        write_json(outputs, ANGLE_OUT, {"angle": angle, "accuracy": accuracy})
        return True
