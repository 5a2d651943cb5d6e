"""Gamera's morphology jobs: Despeckle and Dilate, both on the fast engine (``fast``)."""

from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, setting, write_png

from . import engine, fast
from .common import run_gamera, settings_schema

CATEGORY = "Morphology"
ONEBIT_IN = "Onebit PNG image"


class Despeckle(RodanTask):
    name = "Despeckle"
    author = "Rodan contributors"
    description = (
        "Remove black specks: 8-connected components with fewer pixels than the size. Size 1 removes "
        "isolated single pixels, as Gamera's despeckle does."
    )
    category = CATEGORY
    settings = settings_schema(
        "Despeckle settings",
        **{
            "Connected component size": {
                "type": "integer",
                "default": 1,
                "minimum": 1,
                "description": "The maximum number of pixels in each connected component that will be removed. "
                "1 is a special case that runs faster as it does not require recursion.",
            }
        },
    )
    input_port_types = [port(ONEBIT_IN, ["image/onebit+png"])]
    output_port_types = [port("Onebit PNG despeckled image", ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        image = load(inputs, ONEBIT_IN, "onebit")
        size = int(setting(settings, self.settings, "Connected component size"))
        if engine.use_fast():
            result = fast.despeckle(image, size)
        else:
            result = run_gamera("despeckle", image, args=(size,))
        write_png(outputs, "Onebit PNG despeckled image", result)
        return True


class Dilate(RodanTask):
    name = "Dilate"
    author = "Rodan contributors"
    description = "Grow black areas by one pixel in every direction (a 3×3 square), within the image's borders."
    category = CATEGORY
    # Rodan's title is "Despeckle settings" here too; kept, since clients see the schema verbatim.
    settings = settings_schema("Despeckle settings")
    input_port_types = [port(ONEBIT_IN, ["image/onebit+png"])]
    output_port_types = [port("Onebit PNG dilated image", ["image/onebit+png"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        image = load(inputs, ONEBIT_IN, "onebit")
        result = fast.dilate(image) if engine.use_fast() else run_gamera("dilate", image)
        write_png(outputs, "Onebit PNG dilated image", result)
        return True
