"""Gamera's global and local threshold jobs: Otsu, Tsai, Abutaleb, Bernsen, DjVu.

Otsu, Bernsen, Tsai and Abutaleb run on the fast engine (same pixels as
Gamera, ``fast``, ``fast.global_thresholds``); DjVu runs on Gamera.
*Storage format* (dense or run-length) only changes how Gamera holds the
result in memory, never its pixels, so the fast engine accepts and ignores it.
"""

from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, setting, write_png

from . import engine, fast
from .common import STORAGE_FORMAT, run_gamera, settings_schema
from .fast import global_thresholds

CATEGORY = "Threshold"
GREY_IN = "Greyscale PNG image"
ONEBIT_OUT = "Onebit PNG image"


def _storage_format(job, settings):
    return int(setting(settings, job.settings, "Storage format"))


class GlobalThreshold(RodanTask):
    """Otsu, Tsai and Abutaleb: greyscale in, one-bit out, *Storage format* their only setting.

    Each names Gamera's plugin (``gamera_method``) and its fast twin (``fast_method``).
    """

    author = "Rodan contributors"
    category = CATEGORY
    input_port_types = [port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]
    gamera_method = None

    @staticmethod
    def fast_method(grey):
        raise NotImplementedError

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, GREY_IN, "greyscale")
        storage = _storage_format(self, settings)
        if engine.use_fast():
            result = self.fast_method(grey)
        else:
            result = run_gamera(self.gamera_method, grey, args=(storage,))
        write_png(outputs, ONEBIT_OUT, result)
        return True


class OtsuThreshold(GlobalThreshold):
    name = "Otsu Threshold"
    description = "Global threshold at the level found by Otsu's method (IEEE Trans. SMC 9(1), 1979), as in Gamera."
    settings = settings_schema("Otsu threshold settings", **{"Storage format": STORAGE_FORMAT})
    gamera_method = "otsu_threshold"
    fast_method = staticmethod(fast.otsu_threshold)


class TsaiMomentPreservingThreshold(GlobalThreshold):
    name = "Tsai Moment Preserving Threshold"
    description = "Global threshold that preserves the first three grey-level moments (Tsai, CVGIP 29, 1985)."
    settings = settings_schema(name, **{"Storage format": STORAGE_FORMAT})
    gamera_method = "tsai_moment_preserving_threshold"
    fast_method = staticmethod(global_thresholds.tsai_threshold)


class AbutalebThreshold(GlobalThreshold):
    name = "Abutaleb locally-adaptive threshold"
    description = (
        "Threshold from the two-dimensional entropy of grey level and local mean (Abutaleb, "
        "CVGIP 47, 1989)."
    )
    settings = settings_schema(name, **{"Storage format": STORAGE_FORMAT})
    gamera_method = "abutaleb_threshold"
    fast_method = staticmethod(global_thresholds.abutaleb_threshold)


class BernsenThreshold(RodanTask):
    """Bernsen's threshold.

    Rodan's own wrapper defines ``run_my_task`` twice and the second, an
    Abutaleb call, wins, so Rodan's "Bernsen threshold" ignores its settings
    and returns Abutaleb's pixels. That is a bug, not a contract: this job
    runs Bernsen's method with the settings it declares.
    """

    name = "Bernsen threshold"
    author = "Rodan contributors"
    description = (
        "Local threshold at the middle of the window's darkest and lightest values (Bernsen, ICPR 1986); "
        "where their contrast is below the limit, the pixel is doubtful and takes the chosen colour."
    )
    category = CATEGORY
    settings = settings_schema(
        name,
        **{
            "Storage format": STORAGE_FORMAT,
            "Region size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 50,
                "default": 11,
                "description": "The size of each region in which to calculate a threshold.",
            },
            "Contrast limit": {
                "type": "integer",
                "minimum": 0,
                "maximum": 255,
                "default": 80,
                "description": "The minimum amount of contrast required to threshold.",
            },
            "Doubt to black": {
                "type": "boolean",
                "default": False,
                "description": "When True, 'doubtful' values are set to black, otherwise to white.",
            },
        },
    )
    input_port_types = [port(GREY_IN, ["image/greyscale+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        grey = load(inputs, GREY_IN, "greyscale")
        region = int(setting(settings, self.settings, "Region size"))
        contrast = int(setting(settings, self.settings, "Contrast limit"))
        doubt = bool(setting(settings, self.settings, "Doubt to black"))
        if engine.use_fast():
            result = fast.bernsen_threshold(grey, region, contrast, doubt)
        else:
            fast.check_region(self.name, grey, region)
            storage = _storage_format(self, settings)
            result = run_gamera("bernsen_threshold", grey, args=(storage, region, contrast, doubt))
        write_png(outputs, ONEBIT_OUT, result)
        return True


class DjvuThreshold(RodanTask):
    name = "DjVu threshold"
    author = "Rodan contributors"
    description = (
        "Colour threshold from DjVu's multiscale foreground/background estimate (Bottou et al. 1998, §5.1), "
        "with colours interpolated between blocks. Runs on Gamera."
    )
    category = CATEGORY
    settings = settings_schema(
        name,
        **{
            "Smoothness": {
                "type": "number",
                "minimum": 0.0,
                "maximum": 1.0,
                "default": 0.2,
                "description": "How much parent blocks affect their children, from 0.0 to 1.0.",
            },
            "Maximum block size": {
                "type": "integer",
                "minimum": 1,
                "default": 512,
                "description": "The size of the largest block to determine a threshold.",
            },
            "Minimum block size": {
                "type": "integer",
                "minimum": 1,
                "default": 64,
                "description": "The size of the smallest block to determine a threshold.",
            },
            "Block factor": {
                "type": "integer",
                "minimum": 1,
                "maximum": 8,
                "default": 2,
                "description": "The number of child blocks (in each direction) per parent block.",
            },
        },
    )
    input_port_types = [port("RGB PNG image", ["image/rgb+png"])]
    output_port_types = [port(ONEBIT_OUT, ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        rgb = load(inputs, "RGB PNG image", "rgb")
        names = ("Smoothness", "Maximum block size", "Minimum block size", "Block factor")
        smoothness, largest, smallest, factor = (setting(settings, self.settings, n) for n in names)
        args = (float(smoothness), int(largest), int(smallest), int(factor))
        write_png(outputs, ONEBIT_OUT, run_gamera("djvu_threshold", rgb, args=args))
        return True
