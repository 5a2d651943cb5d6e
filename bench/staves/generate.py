"""Pixel-exact staff / no-staff page pairs from random seeded MEI, engraved by verovio.

Verovio draws every staff line as a ``path`` that is a direct child of a
``g class="staff"``; dropping those paths gives the same page without its
staff lines (ledger lines, which belong to notes, stay). Both SVGs are
rasterised by resvg with crisp shapes and thresholded at mid-grey, so every
symbol pixel is identical in the two images and the staff-only ground truth
is ``page & ~no_staff``.

Randomised per page (from one seed): staves per system (1-3), lines per
staff (5, or 4 for square-notation-like staves), staff space and staff-line
width, notes with ledger lines, chords, beamed eighths, accidentals, rests,
half and whole notes.
"""

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import resvg_py
import verovio
from PIL import Image

SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

#: A4 at 300 dpi.
A4_300DPI = (3508, 2480)

STEPS = "cdefgab"


@dataclass
class Page:
    """A rendered page: ink arrays (True = black) with and without staff lines, and what was drawn."""

    ink: np.ndarray
    no_staff: np.ndarray
    staves: int
    lines_per_staff: int

    @property
    def staff_only(self):
        return self.ink & ~self.no_staff


def _pitch(rng, clef):
    """A pitch from a ledger line below to two ledger lines above the staff, as (pname, oct)."""
    low = 4 * 7 + 5 if clef == "G" else 2 * 7 + 0  # a3 / c2 as diatonic step numbers
    step = low + int(rng.integers(0, 17))
    return STEPS[step % 7], step // 7


def _note(rng, clef, dur=None, with_dur=True):
    pname, octave = _pitch(rng, clef)
    accid = f' accid="{rng.choice(["s", "f", "n"])}"' if rng.random() < 0.2 else ""
    duration = f' dur="{dur}"' if with_dur and dur else ""
    return f'<note pname="{pname}" oct="{octave}"{duration}{accid}/>'


def _beat(rng, clef, beats_left):
    """One event of a 4/4 layer and the beats it takes."""
    roll = rng.random()
    if beats_left >= 4 and roll < 0.05:
        return _note(rng, clef, 1), 4
    if beats_left >= 2 and roll < 0.2:
        return _note(rng, clef, 2), 2
    if roll < 0.45:
        notes = "".join(_note(rng, clef, 8) for _ in range(2 if rng.random() < 0.7 else 4))
        return f"<beam>{notes}</beam>", 1 if "<note" in notes and notes.count("<note") == 2 else 2
    if roll < 0.6:
        chord = "".join(_note(rng, clef, with_dur=False) for _ in range(int(rng.integers(2, 4))))
        return f'<chord dur="4">{chord}</chord>', 1
    if roll < 0.68:
        return '<rest dur="4"/>', 1
    return _note(rng, clef, 4), 1


def _layer(rng, clef):
    events, beats = [], 4
    while beats > 0:
        event, used = _beat(rng, clef, beats)
        if used > beats:
            continue
        events.append(event)
        beats -= used
    return "".join(events)


def random_mei(rng, staves=1, lines=5, measures=40):
    """A random 4/4 score of ``measures`` measures on ``staves`` staves of ``lines`` lines."""
    clefs = ["G" if k == 0 or rng.random() < 0.5 else "F" for k in range(staves)]
    defs = "".join(
        f'<staffDef n="{k + 1}" lines="{lines}" clef.shape="{c}" clef.line="{2 if c == "G" else 4}" '
        'meter.count="4" meter.unit="4"/>'
        for k, c in enumerate(clefs)
    )
    body = "".join(
        f'<measure n="{m + 1}">'
        + "".join(f'<staff n="{k + 1}"><layer n="1">{_layer(rng, c)}</layer></staff>' for k, c in enumerate(clefs))
        + "</measure>"
        for m in range(measures)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><mei xmlns="http://www.music-encoding.org/ns/mei" meiVersion="5.0">'
        "<meiHead><fileDesc><titleStmt><title/></titleStmt><pubStmt/></fileDesc></meiHead>"
        f"<music><body><mdiv><score><scoreDef><staffGrp>{defs}</staffGrp></scoreDef>"
        f"<section>{body}</section></score></mdiv></body></music></mei>"
    )


def without_staff_lines(svg):
    """The SVG without its staff-line paths (direct ``path`` children of ``g.staff``), and the number of staves."""
    root = ET.fromstring(svg)
    tops = set()  # one staff per distinct top-line path (a staff is drawn once per measure)
    for group in root.iter(f"{{{SVG}}}g"):
        if "staff" in group.get("class", "").split():
            paths = [c for c in group if c.tag == f"{{{SVG}}}path"]
            if paths:
                tops.add(paths[0].get("d").split("L")[0].split()[-1])
            for child in paths:
                group.remove(child)
    return ET.tostring(root, encoding="unicode"), len(tops)


def rasterise(svg):
    """Ink array (True = black) of an SVG, rendered with crisp edges on white and thresholded at 50 %."""
    png = resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", shape_rendering="crisp_edges")
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("L")) < 128


def render_page(seed, size=A4_300DPI):
    """The page pair for ``seed``: page size ``(height, width)`` in pixels."""
    rng = np.random.default_rng(seed)
    per_system = int(rng.choice([1, 1, 2, 3]))
    lines = 4 if rng.random() < 0.2 else 5
    scale = float(rng.uniform(110, 180)) * size[1] / A4_300DPI[1]
    toolkit = verovio.toolkit()
    toolkit.setOptions(
        {
            "pageWidth": int(size[1] * 100 / scale),
            "pageHeight": int(size[0] * 100 / scale),
            "scale": int(round(scale)),
            "unit": float(rng.uniform(7.5, 10)),
            "staffLineWidth": float(rng.uniform(0.15, 0.3)),
            "adjustPageHeight": False,
            "header": "none",
            "footer": "none",
            "breaks": "auto",
        }
    )
    toolkit.loadData(random_mei(rng, per_system, lines, measures=int(rng.integers(20, 60))))
    svg = toolkit.renderToSVG(1)
    bare, staves = without_staff_lines(svg)
    ink, no_staff = rasterise(svg), rasterise(bare)
    return Page(_fit(ink, size), _fit(no_staff, size), staves, lines)


def _fit(ink, size):
    """Crop or pad (white) to exactly ``size``: verovio's page size is rounded to its units."""
    out = np.zeros(size, dtype=bool)
    h, w = min(size[0], ink.shape[0]), min(size[1], ink.shape[1])
    out[:h, :w] = ink[:h, :w]
    return out
