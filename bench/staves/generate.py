"""Pixel-exact staff / no-staff page pairs from random seeded MEI, engraved by verovio.

Verovio draws every staff line as a ``path`` that is a direct child of a
``g class="staff"`` (in common, mensural and neume notation alike); dropping
those paths gives the same page without its staff lines (ledger lines, which
belong to notes, stay). Both SVGs are rasterised by resvg with crisp shapes
and thresholded at mid-grey, so every symbol pixel is identical in the two
images and the staff-only ground truth is ``page & ~no_staff``. The same
paths give the true staff-line skeletons (``Page.lines``): their y and
x-extents mapped to pixels, the pieces of one line (drawn per measure or
syllable) joined.

Randomised per page (from one seed), whatever the notation: staff space,
staff-line width (at least ``MIN_LINE_PX``) and the music (``scores.py``).
Per notation: common Western notation has 1-3 staves per system of 5 lines
(4 on one page in five); mensural notation has 1-3 staves per system and
cycles by seed through white on 5 lines, black on 4, white on 4 and black
on 5 (``MENSURAL_VARIANTS``), so any two consecutive seeds show both
notations and both staff sizes; square notation has one 4-line staff per
system. Text (chant lyrics, measure numbers) is set in a system font, so
its pixels, never the staff lines', may differ between machines.
"""

import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
import resvg_py
import verovio
from PIL import Image

from musicstaves import StaffLine

from .scores import chant_mei, cwmn_mei, mensural_mei

SVG = "http://www.w3.org/2000/svg"

#: A4 at 300 dpi.
A4_300DPI = (3508, 2480)

#: Thinnest staff line drawn, in pixels.
MIN_LINE_PX = 1.1

#: The notations a page can be engraved in: common Western, white/black mensural, square (neume).
NOTATIONS = ("cwmn", "mensural", "square")

#: SVG elements that put ink on the page.
_DRAWING = {f"{{{SVG}}}{tag}" for tag in ("path", "use", "text", "rect", "polygon", "polyline", "line", "circle", "ellipse")}


@dataclass
class Page:
    """A rendered page: ink arrays (True = black) with and without staff lines, and what was drawn."""

    ink: np.ndarray
    no_staff: np.ndarray
    staves: int
    lines_per_staff: int
    notation: str = "cwmn"
    lines: list = field(default_factory=list)  # true staff-line skeletons (StaffLine), top to bottom

    @property
    def staff_only(self):
        return self.ink & ~self.no_staff


def _staff_line_paths(root):
    """The staff-line paths of a parsed verovio SVG: the direct ``path`` children of every ``g.staff``."""
    for group in root.iter(f"{{{SVG}}}g"):
        if "staff" in group.get("class", "").split():
            yield group, [child for child in group if child.tag == f"{{{SVG}}}path"]


def _pixel_mapping(root):
    """Scale and offsets from the inner ``svg`` viewBox to pixels, as SVG's default xMidYMid meet fits it."""
    inner = next(svg for svg in root.iter(f"{{{SVG}}}svg") if svg.get("viewBox"))
    _, _, box_w, box_h = (float(v) for v in inner.get("viewBox").split())
    width, height = (float(root.get(key).removesuffix("px")) for key in ("width", "height"))
    scale = min(width / box_w, height / box_h)
    return scale, (width - box_w * scale) / 2, (height - box_h * scale) / 2


def _translated_staff_groups(element, dx=0.0, dy=0.0):
    """Every ``g.staff`` with the sum of its ancestors' ``translate`` offsets (verovio's page margin)."""
    match = re.fullmatch(r"translate\((-?[\d.]+),\s*(-?[\d.]+)\)", element.get("transform", ""))
    if match:
        dx, dy = dx + float(match[1]), dy + float(match[2])
    if element.tag == f"{{{SVG}}}g" and "staff" in element.get("class", "").split():
        yield element, dx, dy
    for child in element:
        yield from _translated_staff_groups(child, dx, dy)


def staff_line_segments(svg):
    """The staff-line paths of an SVG in pixels: (centre row, first column, last column), sorted.

    A horizontal path from X0 to X1 at Y (pixels) covers the columns whose
    centres lie strictly between X0 and X1 (a pixel half covered stays white
    under the mid-grey threshold) and is centred on row Y - 0.5 (row i spans
    i to i + 1).
    """
    root = ET.fromstring(svg)
    scale, off_x, off_y = _pixel_mapping(root)
    segments = []
    for group, dx, dy in _translated_staff_groups(root):
        for path in group:
            if path.tag != f"{{{SVG}}}path":
                continue
            x0, y0, x1, _ = (float(v) for v in re.findall(r"-?[\d.]+", path.get("d")))
            left, right = sorted(((x0 + dx) * scale + off_x, (x1 + dx) * scale + off_x))
            segments.append(((y0 + dy) * scale + off_y - 0.5, math.floor(left - 0.5) + 1, math.ceil(right - 0.5) - 1))
    return sorted(segments)


def staff_line_skeletons(svg, size):
    """True staff-line skeletons of an SVG inside a page of ``size``: pieces at one height that touch are one line.

    Two pieces meeting exactly on a pixel centre each half cover that
    column, so together they draw it: a one-column gap between pieces is no gap.
    """
    lines = []
    for y, first, last in staff_line_segments(svg):
        first, last = max(0, first), min(size[1] - 1, last)
        if last < first or not 0 <= y < size[0]:
            continue
        if lines and lines[-1][0] == y and first <= lines[-1][2] + 2:
            lines[-1][2] = max(lines[-1][2], last)
        else:
            lines.append([y, first, last])
    return [StaffLine(first, np.full(last - first + 1, y)) for y, first, last in lines]


def _to_string(root):
    """The SVG text of a parsed tree, with plain SVG and xlink prefixes as verovio wrote it (not ns0:)."""
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="unicode")


def without_staff_lines(svg):
    """The SVG without its staff-line paths, and the number of staves on the page."""
    root = ET.fromstring(svg)
    tops = set()  # one staff per distinct top-line height (a staff is drawn once per measure or syllable)
    for group, paths in _staff_line_paths(root):
        if paths:
            tops.add(paths[0].get("d").split("L")[0].split()[-1])
        for path in paths:
            group.remove(path)
    return _to_string(root), len(tops)


def staff_lines_only(svg):
    """The SVG with nothing but its staff-line paths: what the staff-only ground truth must match."""
    root = ET.fromstring(svg)
    keep = {id(path) for _, paths in _staff_line_paths(root) for path in paths}
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in _DRAWING and id(child) not in keep:
                parent.remove(child)
    return _to_string(root)


def rasterise(svg):
    """Ink array (True = black) of an SVG, rendered with crisp edges on white and thresholded at 50 %."""
    png = resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", shape_rendering="crisp_edges")
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("L")) < 128


#: Mensural pages cycle through these (black notation?, lines per staff) by seed.
MENSURAL_VARIANTS = ((False, 5), (True, 4), (False, 4), (True, 5))


def _layout(rng, notation, seed):
    """Staves per system and lines per staff of a page in ``notation``."""
    if notation == "cwmn":
        return int(rng.choice([1, 1, 2, 3])), 4 if rng.random() < 0.2 else 5
    if notation == "mensural":
        return int(rng.choice([1, 1, 2, 3])), MENSURAL_VARIANTS[seed % 4][1]
    if notation == "square":
        return 1, 4
    raise ValueError(f"unknown notation {notation!r}; one of {', '.join(NOTATIONS)}")


def _score(rng, notation, seed, per_system, lines):
    """Random MEI for a page in ``notation``, long enough to fill the first page."""
    if notation == "cwmn":
        return cwmn_mei(rng, per_system, lines, measures=int(rng.integers(20, 60)))
    if notation == "mensural":
        events = int(rng.integers(450, 650)) // per_system
        return mensural_mei(rng, per_system, lines, events=events, black=MENSURAL_VARIANTS[seed % 4][0])
    return chant_mei(rng, syllables=int(rng.integers(220, 320)))


def engrave(seed, size=A4_300DPI, notation="cwmn"):
    """The verovio SVG of the first page for ``seed`` and its number of lines per staff."""
    rng = np.random.default_rng(seed)
    per_system, lines = _layout(rng, notation, seed)
    scale = float(rng.uniform(110, 180)) * size[1] / A4_300DPI[1]
    unit = float(rng.uniform(7.5, 10))
    # A line thinner than a pixel can miss every pixel centre and vanish under crisp edges:
    # widen it to MIN_LINE_PX (verovio draws width * unit * scale / 100 pixels, width at most 0.3).
    line_width = max(float(rng.uniform(0.15, 0.3)), min(0.3, MIN_LINE_PX * 100 / (unit * scale)))
    toolkit = verovio.toolkit()
    toolkit.setOptions(
        {
            "pageWidth": int(size[1] * 100 / scale),
            "pageHeight": int(size[0] * 100 / scale),
            "scale": int(round(scale)),
            "unit": unit,
            "staffLineWidth": line_width,
            "adjustPageHeight": False,
            "header": "none",
            "footer": "none",
            "breaks": "auto",
            # Mensural music without measures: duration-based spacing spreads a few notes over whole systems.
            "evenNoteSpacing": notation == "mensural",
        }
    )
    toolkit.loadData(_score(rng, notation, seed, per_system, lines))
    return toolkit.renderToSVG(1), lines


def render_page(seed, size=A4_300DPI, notation="cwmn"):
    """The page pair for ``seed`` in ``notation`` (one of ``NOTATIONS``): page size ``(height, width)`` in pixels."""
    svg, lines = engrave(seed, size, notation)
    bare, staves = without_staff_lines(svg)
    ink, no_staff = rasterise(svg), rasterise(bare)
    return Page(_fit(ink, size), _fit(no_staff, size), staves, lines, notation, staff_line_skeletons(svg, size))


def _fit(ink, size):
    """Crop or pad (white) to exactly ``size``: verovio's page size is rounded to its units."""
    out = np.zeros(size, dtype=bool)
    h, w = min(size[0], ink.shape[0]), min(size[1], ink.shape[1])
    out[:h, :w] = ink[:h, :w]
    return out
