"""Δoxa's local binarizations as Rodan jobs: greyscale PNG in, one-bit PNG out.

Δoxa (Brandon M. Petty, https://github.com/brandonmpetty/Doxa) implements each
method from its paper, with integral-image window statistics. Its native code
corrupts memory when the window is larger than the image (seen with doxapy
0.9.2 on images smaller than the default 75-pixel window), so the window is
checked against the image first and refused with a clear error.
"""

import doxapy
import numpy as np

from rodan.imaging import ImageError, require_pixel_type
from rodan.jobs import kit
from rodan.jobs.base import RodanTask

CATEGORY = "Binarization (Doxa)"
GREY_IN = "Greyscale PNG image"
ONEBIT_OUT = "Onebit PNG image"
ALGORITHMS = doxapy.Binarization.Algorithms


def _window(default):
    return {
        "type": "integer",
        "minimum": 1,
        "default": default,
        "description": "Width and height of the square window the local statistics are taken over, in pixels.",
    }


def _k(default, description="The method's sensitivity: higher keeps less ink."):
    return {"type": "number", "default": default, "description": description}


def binarize(grey, algorithm, window, **parameters):
    """Δoxa's ``algorithm`` on a greyscale array: a one-bit array (True = white)."""
    require_pixel_type(grey, "greyscale")
    if not 1 <= window <= min(grey.shape):
        raise ImageError(
            f"window {window} does not fit a {grey.shape[1]}×{grey.shape[0]} image; "
            f"use a window between 1 and {min(grey.shape)}"
        )
    result = np.ascontiguousarray(grey).copy()  # Δoxa binarizes in place, 0 = black, 255 = white
    doxapy.Binarization.update_to_binary(algorithm, result, {"window": int(window), **parameters})
    return result == 255


class DoxaBinarization(RodanTask):
    """What every Δoxa job shares; each names its algorithm and its settings' properties.

    The settings schema is built from ``properties`` when a job subclasses
    this, so a job's metadata stays a few lines of data.
    """

    author = "Rodan contributors"
    category = CATEGORY
    input_port_types = [kit.port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [kit.port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]
    algorithm = None
    properties = {}
    #: Setting names → Δoxa's parameter names.
    PARAMETERS = {"Window": "window", "k": "k", "Minimum high-contrast pixels": "minN"}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.settings = kit.settings_schema("Python3", f"{cls.name} settings", cls.properties)

    def run_my_task(self, inputs, settings, outputs):
        grey = kit.load(inputs, GREY_IN, "greyscale")
        values = {name: kit.setting(settings, self.settings, name) for name in self.properties}
        parameters = {self.PARAMETERS[name]: value for name, value in values.items() if name != "Window"}
        result = binarize(grey, self.algorithm, int(values["Window"]), **parameters)
        kit.write_png(outputs, ONEBIT_OUT, result)
        return True


class SauvolaTextbook(DoxaBinarization):
    name = "Sauvola Threshold (textbook, Doxa)"
    description = (
        "Sauvola and Pietikäinen's threshold as published (Pattern Recognition 33, 2000): T = m·(1 + k·(s/128 - 1)). "
        "Gamera's 'Sauvola Threshold' uses a different formula."
    )
    algorithm = ALGORITHMS.SAUVOLA
    properties = {"Window": _window(75), "k": _k(0.2)}


class Wolf(DoxaBinarization):
    name = "Wolf Threshold (Doxa)"
    description = "Wolf and Jolion's threshold (ICPR 2002): Sauvola normalised by the page's contrast, robust to low contrast."
    algorithm = ALGORITHMS.WOLF
    properties = {"Window": _window(75), "k": _k(0.2)}


class Nick(DoxaBinarization):
    name = "NICK Threshold (Doxa)"
    description = (
        "Khurshid et al.'s NICK (DRR 2009): Niblack with the mean's square in the deviation, for faded ancient documents."
    )
    algorithm = ALGORITHMS.NICK
    properties = {"Window": _window(75), "k": _k(-0.2, "Negative, usually -0.1 to -0.2: lower keeps less ink.")}


class Su(DoxaBinarization):
    name = "Su Threshold (Doxa)"
    description = "Su, Lu and Tan's threshold from local contrast maxima and minima (DAS 2010), for degraded historical pages."
    algorithm = ALGORITHMS.SU
    properties = {
        "Window": _window(9),
        "Minimum high-contrast pixels": {
            "type": "integer",
            "minimum": 1,
            "default": 9,
            "description": "High-contrast pixels a window needs before a pixel can be ink.",
        },
    }


class ISauvola(DoxaBinarization):
    name = "ISauvola Threshold (Doxa)"
    description = "Hadjadj et al.'s ISauvola (ICFHR 2016): Sauvola guided by a contrast image, keeping thin strokes."
    algorithm = ALGORITHMS.ISAUVOLA
    properties = {"Window": _window(75), "k": _k(0.2)}


class TRSingh(DoxaBinarization):
    name = "T.R. Singh Threshold (Doxa)"
    description = "T. Romen Singh et al.'s fast local threshold (2011) from the local mean and mean deviation."
    algorithm = ALGORITHMS.TRSINGH
    properties = {"Window": _window(75), "k": _k(0.2)}


class Wan(DoxaBinarization):
    name = "WAN Threshold (Doxa)"
    description = "Wan Azani Mustafa et al.'s optimum-threshold modification of Sauvola (2018), for darker backgrounds."
    algorithm = ALGORITHMS.WAN
    properties = {"Window": _window(75), "k": _k(0.2)}
