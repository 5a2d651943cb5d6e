"""Gamera's binarization jobs: Gatos background and threshold, Brink, Sauvola, Niblack, White-Rohrer.

Sauvola, Niblack, both Gatos steps, Brink and White-Rohrer run on the fast
engine (same pixels as Gamera, see ``fast``, ``fast.global_thresholds`` and
``fast.white_rohrer``), White-Rohrer except for f factors 15-20, where
Gamera's own loop is faster and runs when installed. White-Rohrer is not in
Rodan's catalogue; it wraps Gamera's ``white_rohrer_threshold`` in the
catalogue's style.
"""

import numpy as np

from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, setting, write_png

from . import engine, fast
from .common import run_gamera, settings_schema
from .fast import global_thresholds, white_rohrer

CATEGORY = "Binarization"
GREY_IN = "Greyscale PNG image"
ONEBIT_OUT = "Onebit PNG image"
PRELIMINARY = "Onebit PNG - preliminary binarization of the image"
SOURCE = "Greyscale PNG - source image to binarize"
BACKGROUND = "Greyscale PNG - estimated background of the image"
BACKGROUND_OUT = "Greyscale PNG - background estimation image"


def _bound(default, description):
    return {"type": "integer", "minimum": 0, "maximum": 255, "default": default, "description": description}


LOWER_BOUND = _bound(20, "A global threshold beneath which all pixels are considered black.")
UPPER_BOUND = _bound(150, "A global threshold above which all pixels are considered white.")
REGION_SIZE = {
    "type": "integer",
    "default": 15,
    "description": "The size of the region in which to calculate a threshold.",
}


class GatosBackground(RodanTask):
    name = "Gatos Background"
    author = "Rodan contributors"
    description = (
        "Estimate the page background from a greyscale image and a preliminary binarization "
        "(Gatos, Pratikakis and Perantonis 2004): under ink, the mean of the nearby paper pixels."
    )
    category = CATEGORY
    settings = settings_schema(
        "Gatos background settings", **{"Region size": {"type": "integer", "minimum": 1, "default": 15}}
    )
    input_port_types = [port(PRELIMINARY, ["image/onebit+png"]), port(SOURCE, ["image/greyscale+png"])]
    output_port_types = [port(BACKGROUND_OUT, ["image/greyscale+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, SOURCE, "greyscale")
        preliminary = load(inputs, PRELIMINARY, "onebit")
        region = setting(settings, self.settings, "Region size")
        if engine.use_fast():
            result = fast.gatos_background(grey, preliminary, region)
        else:
            fast.check_same_size(self.name, grey, preliminary)
            fast.check_region(self.name, grey, region)
            result = run_gamera("gatos_background", grey, preliminary, args=(region,))
        write_png(outputs, BACKGROUND_OUT, result)
        return True


class GatosThreshold(RodanTask):
    name = "Gatos Threshold"
    author = "Rodan contributors"
    description = (
        "Binarize a greyscale image against its estimated background (Gatos, Pratikakis and "
        "Perantonis 2004). Keep the default q, p1 and p2 unless you know the method."
    )
    category = CATEGORY
    settings = settings_schema(
        "Gatos threshold settings",
        q={"type": "number", "default": 0.6, "description": "Use default setting (unless you know what you are doing)."},
        p1={"type": "number", "default": 0.5, "description": "Use default setting (unless you know what you are doing)."},
        p2={"type": "number", "default": 0.8, "description": "Use default setting (unless you know what you are doing)."},
    )
    input_port_types = [
        port(PRELIMINARY, ["image/onebit+png"]),
        port(BACKGROUND, ["image/greyscale+png"]),
        port(SOURCE, ["image/greyscale+png"]),
    ]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, SOURCE, "greyscale")
        background = load(inputs, BACKGROUND, "greyscale")
        preliminary = load(inputs, PRELIMINARY, "onebit")
        q, p1, p2 = (float(setting(settings, self.settings, key)) for key in ("q", "p1", "p2"))
        if engine.use_fast():
            result = fast.gatos_threshold(grey, background, preliminary, q, p1, p2)
        else:
            fast.check_same_size(self.name, grey, background, preliminary)
            result = run_gamera("gatos_threshold", grey, background, preliminary, args=(q, p1, p2))
        write_png(outputs, ONEBIT_OUT, result)
        return True


class BrinkThreshold(RodanTask):
    name = "Brink Threshold"
    author = "Rodan contributors"
    description = (
        "Global threshold by Brink and Pendock's minimum cross-entropy (Pattern Recognition 29(1), 1996), "
        "suited to dark ink with strong bleed-through."
    )
    category = CATEGORY
    settings = settings_schema()
    input_port_types = [port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, GREY_IN, "greyscale")
        if engine.use_fast():
            result = global_thresholds.brink_threshold(grey)
        else:
            result = run_gamera("brink_threshold", grey)
        write_png(outputs, ONEBIT_OUT, result)
        return True


class SauvolaThreshold(RodanTask):
    name = "Sauvola Threshold"
    author = "Rodan contributors"
    description = (
        "Local threshold after Sauvola and Pietikäinen (Pattern Recognition 33, 2000), exactly as Gamera "
        "computes it (mean + 1 - k·(1 - s/R)), with global lower and upper bounds as in QGAR."
    )
    category = CATEGORY
    settings = settings_schema(
        "Sauvola threshold settings",
        **{
            "Region size": REGION_SIZE,
            "Sensitivity": {
                "type": "number",
                "default": 0.5,
                "description": "The sensitivity weight on the adjusted variance.",
            },
            "Dynamic range": {
                "type": "integer",
                "minimum": 1,
                "maximum": 255,
                "default": 128,
                "description": "The dynamic range of the variance.",
            },
            "Lower bound": LOWER_BOUND,
            "Upper bound": UPPER_BOUND,
        },
    )
    input_port_types = [port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, GREY_IN, "greyscale")
        names = ("Region size", "Sensitivity", "Dynamic range", "Lower bound", "Upper bound")
        region, sensitivity, dynamic_range, lower, upper = (setting(settings, self.settings, n) for n in names)
        args = (int(region), float(sensitivity), int(dynamic_range), int(lower), int(upper))
        if engine.use_fast():
            result = fast.sauvola_threshold(grey, *args)
        else:
            fast.check_region(self.name, grey, args[0])
            result = run_gamera("sauvola_threshold", grey, args=args)
        write_png(outputs, ONEBIT_OUT, result)
        return True


class NiblackThreshold(RodanTask):
    name = "Niblack Threshold"
    author = "Rodan contributors"
    description = (
        "Local threshold mean + k·deviation after Niblack (An Introduction to Digital Image Processing, "
        "1986), as Gamera computes it, with global lower and upper bounds as in QGAR."
    )
    category = CATEGORY
    settings = settings_schema(
        "Niblack threshold settings",
        **{
            "Region size": REGION_SIZE,
            "Sensitivity": {
                "type": "number",
                "default": -0.2,
                "description": "The sensitivity weight on the adjusted variance.",
            },
            "Lower bound": LOWER_BOUND,
            "Upper bound": UPPER_BOUND,
        },
    )
    input_port_types = [port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, GREY_IN, "greyscale")
        names = ("Region size", "Sensitivity", "Lower bound", "Upper bound")
        region, sensitivity, lower, upper = (setting(settings, self.settings, n) for n in names)
        args = (int(region), float(sensitivity), int(lower), int(upper))
        if engine.use_fast():
            result = fast.niblack_threshold(grey, *args)
        else:
            fast.check_region(self.name, grey, args[0])
            result = run_gamera("niblack_threshold", grey, args=args)
        write_png(outputs, ONEBIT_OUT, result)
        return True


def _integer(default, description, **bounds):
    return {"type": "integer", "default": default, "description": description, **bounds}


def gamera_white_rohrer(grey, *args):
    """Gamera's ``white_rohrer_threshold`` on ``grey`` with white rows below it in memory.

    Gamera reads up to width + 1 pixels past the end of the image (see
    ``fast.white_rohrer``); giving it a view of the page within a taller
    image makes those reads see ``PAST_END`` instead of stray memory.
    """
    rows, cols = grey.shape
    padded = np.vstack([grey, np.full((2, cols), white_rohrer.PAST_END, np.uint8)])
    core = engine.gamera_core()
    view = core.SubImage(engine.to_gamera(padded), core.Point(0, 0), core.Dim(cols, rows))
    return engine.from_gamera(view.white_rohrer_threshold(*args))


def _gamera_is_faster(f_factor):
    """True for the f factors where the fast engine's White-Rohrer is slower than Gamera's (``SLOW_F_FACTORS``),
    when Gamera is installed: the job then runs Gamera, whose pixels are the same."""
    if f_factor not in white_rohrer.SLOW_F_FACTORS:
        return False
    try:
        engine.gamera_core()
    except engine.GameraUnavailable:
        return False
    return True


class WhiteRohrerThreshold(RodanTask):
    name = "White-Rohrer Threshold"
    author = "Rodan contributors"
    description = (
        "Dynamic threshold after White and Rohrer (IBM J. Res. Dev. 27(4), 1983, first algorithm) as Gamera "
        "computes it: each pixel is compared with a biased running average of the pixels ahead of it, "
        "horizontally over X lookahead pixels and vertically over Y lookahead rows."
    )
    category = CATEGORY
    settings = settings_schema(
        "White-Rohrer threshold settings",
        **{
            "X lookahead": _integer(
                8, "Pixels ahead in the row for the running average; White and Rohrer suggest 8 at 240 dpi.",
                minimum=0, maximum=white_rohrer.MAX_SETTING,
            ),
            "Y lookahead": _integer(
                1, "Rows ahead for the vertical running average (fewer than the image's rows).",
                minimum=0, maximum=white_rohrer.MAX_SETTING,
            ),
            "Bias mode": _integer(
                0, "The bias offset; 0 derives it from the page's grey-level deviation.",
                minimum=-white_rohrer.MAX_SETTING, maximum=white_rohrer.MAX_SETTING,
            ),
            "Bias factor": _integer(
                100, "Percent of the biased running average a pixel must reach to be white.",
                minimum=-white_rohrer.MAX_SETTING, maximum=white_rohrer.MAX_SETTING,
            ),
            "F factor": _integer(
                100, "Percent of XITE's horizontal step applied per pixel.", minimum=0, maximum=white_rohrer.MAX_FACTOR,
            ),
            "G factor": _integer(
                100, "Percent of XITE's vertical step applied per row.", minimum=0, maximum=white_rohrer.MAX_FACTOR,
            ),
        },
    )
    input_port_types = [port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, GREY_IN, "greyscale")
        names = ("X lookahead", "Y lookahead", "Bias mode", "Bias factor", "F factor", "G factor")
        args = tuple(int(setting(settings, self.settings, n)) for n in names)
        if engine.use_fast() and not _gamera_is_faster(args[4]):
            result = white_rohrer.white_rohrer_threshold(grey, *args)
        else:
            white_rohrer.check_settings(grey, *args)
            result = gamera_white_rohrer(grey, *args)
        write_png(outputs, ONEBIT_OUT, result)
        return True
