"""Gamera's binarization jobs: Gatos background and threshold, Brink, Sauvola, Niblack.

Sauvola, Niblack, both Gatos steps and Brink run on the fast engine (same
pixels as Gamera, see ``fast`` and ``fast.global_thresholds``).
"""

from rodan.jobs.base import RodanTask

from . import engine, fast
from .common import load, port, run_gamera, save, setting, settings_schema
from .fast import global_thresholds

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
        save(result, outputs, BACKGROUND_OUT)
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
        save(result, outputs, ONEBIT_OUT)
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
        save(result, outputs, ONEBIT_OUT)
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
        save(result, outputs, ONEBIT_OUT)
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
        save(result, outputs, ONEBIT_OUT)
        return True
