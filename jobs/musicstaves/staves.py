"""Staff finding and staff-line removal jobs (MusicStaves toolkit, ``gamera4-rodan/musicstaves``).

"Miyao Staff Finder" and "Roach-Tatem Remove Staff Lines" keep Rodan's
names, ports and settings (rodan-compat.md §7.1). Each other remover of the
toolkit is a "<Method> Remove Staff Lines" job with the same input port,
the page without staff lines as its required output and, optionally, the
staff lines alone and the staff positions as JSON.
"""

import functools

import musicstaves
import numpy as np
from PIL import Image, ImageDraw

from rodan.imaging import convert_for, save_png, to_onebit
from rodan.jobs import kit
from rodan.jobs.base import RodanTask

CATEGORY = "Music Staves"
ONEBIT = "image/onebit+png"
ORIGINAL = "One-bit PNG image - original"
REMOVED = "One-bit PNG image - staff lines removed"
LINES_ONLY = "One-bit PNG image - staff lines only"
POSITIONS = "Staff positions (JSON)"
MIYAO_IN = "Greyscale or one-bit PNG image"
MASKED = "PNG image (Miyao results used as mask)"
POLYGONS = "Polygons (Miyao results)"
LINES_SETTING = "Number of lines per staff"
BOUND = 1048576


class MiyaoStaffFinder(RodanTask):
    name = "Miyao Staff Finder"
    author = "Rodan contributors"
    description = (
        "Find staves with Miyao's method (Miyao and Okamoto 2004): staff-line candidates on "
        "equidistant scan columns, linked when the segment between them is black enough. "
        "Outputs the page masked by the staff polygons and the polygons themselves."
    )
    category = CATEGORY
    settings = kit.settings_schema(
        "Python3",
        "Miyao settings",
        required=["Number of lines", "Scan lines", "Blackness", "Tolerance"],
        properties={
            "Number of lines": {"type": "integer", "default": 0, "minimum": -BOUND, "maximum": BOUND},
            "Scan lines": {"type": "integer", "default": 20, "minimum": -BOUND, "maximum": BOUND},
            "Blackness": {"type": "number", "default": 0.8, "minimum": -BOUND, "maximum": BOUND},
            "Tolerance": {"type": "integer", "default": -1, "minimum": -BOUND, "maximum": BOUND},
        },
    )
    input_port_types = [kit.port(MIYAO_IN, [ONEBIT, "image/greyscale+png"])]
    output_port_types = [
        kit.port(MASKED, [ONEBIT, "image/greyscale+png"], 0, 2),
        kit.port(POLYGONS, ["application/gamera-polygons+txt"], 0, 1),
    ]

    def run_my_task(self, inputs, settings, outputs):
        image = kit.load(inputs, MIYAO_IN)
        ink = ~to_onebit(image)
        space = musicstaves.staffspace_height(ink)
        value = functools.partial(kit.setting, settings, self.settings)
        staves = musicstaves.find_miyao(
            ink,
            num_lines=max(0, int(value("Number of lines"))),
            scanlines=max(1, int(value("Scan lines"))),
            blackness=float(value("Blackness")),
            tolerance=int(value("Tolerance")),
        )
        polygons = [staff.polygon(margin=space) for staff in staves]
        kit.write_json(outputs, POLYGONS, polygons, separators=(",", ":"))
        if outputs.get(MASKED):
            mask = Image.new("1", (ink.shape[1], ink.shape[0]), 0)
            draw = ImageDraw.Draw(mask)
            for polygon in polygons:
                draw.polygon([tuple(point) for point in polygon], fill=1)
            inside = np.asarray(mask, dtype=bool)

            def write_masked(path, resource_type):
                # Masked after conversion: one-bit outputs keep the page's own Otsu level, not the masked page's.
                pixels = convert_for(image, resource_type)
                white = True if pixels.dtype == bool else np.iinfo(pixels.dtype).max
                save_png(np.where(inside, pixels, white), path, resource_type)

            kit.write_each(outputs, MASKED, write_masked)
        return True


class _RemoveStaffLines(RodanTask):
    """Base of the removal jobs (nameless, so not registered): ``remover`` is a toolkit remover."""

    author = "Rodan contributors"
    category = CATEGORY
    settings = kit.settings_schema(
        "Python3", "Staff removal settings", {LINES_SETTING: {"type": "integer", "minimum": 0, "default": 0}}
    )
    input_port_types = [kit.port(ORIGINAL, [ONEBIT])]
    output_port_types = [
        kit.port(REMOVED, [ONEBIT], 1, 2),
        kit.port(LINES_ONLY, [ONEBIT], 0, 2),
        kit.port(POSITIONS, ["application/json"], 0, 1),
    ]
    remover = None

    def run_my_task(self, inputs, settings, outputs):
        ink = ~to_onebit(kit.load(inputs, ORIGINAL))  # any image the port receives, made one-bit by Otsu
        result = type(self).remover(ink, num_lines=int(kit.setting(settings, self.settings, LINES_SETTING)))
        kit.write_png(outputs, REMOVED, ~result.image)
        kit.write_png(outputs, LINES_ONLY, ~(ink & ~result.image))
        positions = musicstaves.staves_to_json(result.staves, result.staffline_height, result.staffspace_height)
        kit.write_json(outputs, POSITIONS, positions)
        return True


def _description(method, summary):
    return f"Remove staff lines with {method}: {summary} Symbol pixels that cross a staff line are kept."


class RoachTatemRemoveStaffLines(_RemoveStaffLines):
    name = "Roach-Tatem Remove Staff Lines"
    description = _description("Roach and Tatem's method (1988)", "pixels of thin horizontal strokes on found staff lines.")
    output_port_types = [kit.port(REMOVED, [ONEBIT], 1, 2)]
    remover = staticmethod(musicstaves.remove_roach_tatem)


class LineTrackingRemoveStaffLines(_RemoveStaffLines):
    name = "Line Tracking Remove Staff Lines"
    description = _description("line tracking", "runs on tracked lines no longer than twice the line height.")
    remover = staticmethod(musicstaves.remove_line_tracking)


class FujinagaRemoveStaffLines(_RemoveStaffLines):
    name = "Fujinaga Remove Staff Lines"
    description = _description("Fujinaga's method (2004)", "thin connected components lying on staff lines.")
    remover = staticmethod(musicstaves.remove_fujinaga)


class CarterRemoveStaffLines(_RemoveStaffLines):
    name = "Carter Remove Staff Lines"
    description = _description("Carter's method (1992)", "thin line-adjacency-graph sections on staff lines.")
    remover = staticmethod(musicstaves.remove_carter)


class SimpleRemoveStaffLines(_RemoveStaffLines):
    name = "Simple Remove Staff Lines"
    description = _description("simple run-length filtering", "short vertical runs near found lines.")
    remover = staticmethod(musicstaves.remove_simple)


class SkeletonRemoveStaffLines(_RemoveStaffLines):
    name = "Skeleton Remove Staff Lines"
    description = _description("the skeleton method", "runs crossed by horizontal skeleton branches on staff lines.")
    remover = staticmethod(musicstaves.remove_skeleton)
