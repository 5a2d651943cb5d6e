"""Staff finding and staff-line removal jobs (MusicStaves toolkit, ``gamera4-rodan/musicstaves``).

"Miyao Staff Finder" and "Roach-Tatem Remove Staff Lines" keep Rodan's
names, ports and settings (rodan-compat.md §7.1). Each other remover of the
toolkit is a "<Method> Remove Staff Lines" job with the same input port,
the page without staff lines as its required output and, optionally, the
staff lines alone and the staff positions as JSON.
"""

import json

import musicstaves
import numpy as np
from PIL import Image, ImageDraw

from rodan.imaging import convert_for, load_image, save_png, to_onebit
from rodan.jobs.base import RodanTask

CATEGORY = "Music Staves"
ONEBIT = "image/onebit+png"
ORIGINAL = "One-bit PNG image - original"
REMOVED = "One-bit PNG image - staff lines removed"
LINES_ONLY = "One-bit PNG image - staff lines only"
POSITIONS = "Staff positions (JSON)"
LINES_SETTING = "Number of lines per staff"
BOUND = 1048576


def _ink(entry):
    """Ink array (True = black) of an input entry, any image made one-bit by Otsu's threshold."""
    return ~to_onebit(load_image(entry["resource_path"], entry.get("resource_name")))


def _write_ink(ink, entries):
    for entry in entries:
        save_png(~ink, entry["resource_path"], entry["resource_type"])


class MiyaoStaffFinder(RodanTask):
    name = "Miyao Staff Finder"
    author = "Rodan contributors"
    description = (
        "Find staves with Miyao's method (Miyao and Okamoto 2004): staff-line candidates on "
        "equidistant scan columns, linked when the segment between them is black enough. "
        "Outputs the page masked by the staff polygons and the polygons themselves."
    )
    category = CATEGORY
    settings = {
        "title": "Miyao settings",
        "type": "object",
        "job_queue": "Python3",
        "required": ["Number of lines", "Scan lines", "Blackness", "Tolerance"],
        "properties": {
            "Number of lines": {"type": "integer", "default": 0, "minimum": -BOUND, "maximum": BOUND},
            "Scan lines": {"type": "integer", "default": 20, "minimum": -BOUND, "maximum": BOUND},
            "Blackness": {"type": "number", "default": 0.8, "minimum": -BOUND, "maximum": BOUND},
            "Tolerance": {"type": "integer", "default": -1, "minimum": -BOUND, "maximum": BOUND},
        },
    }
    input_port_types = [
        {"name": "Greyscale or one-bit PNG image", "minimum": 1, "maximum": 1, "resource_types": [ONEBIT, "image/greyscale+png"]}
    ]
    output_port_types = [
        {
            "name": "PNG image (Miyao results used as mask)",
            "minimum": 0,
            "maximum": 2,
            "resource_types": [ONEBIT, "image/greyscale+png"],
        },
        {"name": "Polygons (Miyao results)", "minimum": 0, "maximum": 1, "resource_types": ["application/gamera-polygons+txt"]},
    ]

    def run_my_task(self, inputs, settings, outputs):
        entry = inputs["Greyscale or one-bit PNG image"][0]
        image = load_image(entry["resource_path"], entry.get("resource_name"))
        ink = ~to_onebit(image)
        space = musicstaves.staffspace_height(ink)
        staves = musicstaves.find_miyao(
            ink,
            num_lines=max(0, int(settings.get("Number of lines", 0))),
            scanlines=max(1, int(settings.get("Scan lines", 20))),
            blackness=float(settings.get("Blackness", 0.8)),
            tolerance=int(settings.get("Tolerance", -1)),
        )
        polygons = [staff.polygon(margin=space) for staff in staves]
        for entry in outputs.get("Polygons (Miyao results)", []):
            with open(entry["resource_path"], "w") as f:
                f.write(json.dumps(polygons, separators=(",", ":")))
        masked = outputs.get("PNG image (Miyao results used as mask)", [])
        if masked:
            mask = Image.new("1", (ink.shape[1], ink.shape[0]), 0)
            draw = ImageDraw.Draw(mask)
            for polygon in polygons:
                draw.polygon([tuple(point) for point in polygon], fill=1)
            inside = np.asarray(mask, dtype=bool)
            for out in masked:
                pixels = convert_for(image, out["resource_type"])
                white = True if pixels.dtype == bool else np.iinfo(pixels.dtype).max
                save_png(np.where(inside, pixels, white), out["resource_path"], out["resource_type"])
        return True


def _removal_settings():
    return {
        "title": "Staff removal settings",
        "type": "object",
        "job_queue": "Python3",
        "properties": {LINES_SETTING: {"type": "integer", "minimum": 0, "default": 0}},
    }


class _RemoveStaffLines(RodanTask):
    """Base of the removal jobs (nameless, so not registered): ``remover`` is a toolkit remover."""

    author = "Rodan contributors"
    category = CATEGORY
    settings = _removal_settings()
    input_port_types = [{"name": ORIGINAL, "minimum": 1, "maximum": 1, "resource_types": [ONEBIT]}]
    output_port_types = [
        {"name": REMOVED, "minimum": 1, "maximum": 2, "resource_types": [ONEBIT]},
        {"name": LINES_ONLY, "minimum": 0, "maximum": 2, "resource_types": [ONEBIT]},
        {"name": POSITIONS, "minimum": 0, "maximum": 1, "resource_types": ["application/json"]},
    ]
    remover = None

    def run_my_task(self, inputs, settings, outputs):
        ink = _ink(inputs[ORIGINAL][0])
        result = type(self).remover(ink, num_lines=int(settings.get(LINES_SETTING, 0)))
        _write_ink(result.image, outputs[REMOVED])
        _write_ink(ink & ~result.image, outputs.get(LINES_ONLY, []))
        positions = musicstaves.staves_to_json(result.staves, result.staffline_height, result.staffspace_height)
        for entry in outputs.get(POSITIONS, []):
            with open(entry["resource_path"], "w") as f:
                json.dump(positions, f)
        return True


def _description(method, summary):
    return f"Remove staff lines with {method}: {summary} Symbol pixels that cross a staff line are kept."


class RoachTatemRemoveStaffLines(_RemoveStaffLines):
    name = "Roach-Tatem Remove Staff Lines"
    description = _description("Roach and Tatem's method (1988)", "pixels of thin horizontal strokes on found staff lines.")
    output_port_types = [{"name": REMOVED, "minimum": 1, "maximum": 2, "resource_types": [ONEBIT]}]
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
