"""The generated staff / no-staff pairs (bench/staves/generate.py): exact, reproducible, split from the benchmark's."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import ndimage

import musicstaves
from bench.staves.__main__ import HELD_OUT, held_out_seeds
from bench.staves.generate import (
    MENSURAL_VARIANTS,
    NOTATIONS,
    SVG,
    engrave,
    rasterise,
    render_page,
    staff_lines_only,
    without_staff_lines,
)

#: Half an A4 page at 300 dpi, as in conftest.py.
SIZE = (1754, 1240)
#: Seeds these tests render: all in the tuning split, below the benchmark's held-out seeds.
SEEDS = (1, 2)
#: Pages drawn on 4-line staves: square notation always, mensural notation for these seeds.
FOUR_LINE_PAGES = [("square", 1), ("square", 2)] + [("mensural", s) for s in range(1, 5) if MENSURAL_VARIANTS[s % 4][1] == 4]


@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_pairs_are_pixel_exact(notation, seed):
    svg, _ = engrave(seed, SIZE, notation)
    bare, _ = without_staff_lines(svg)
    ink, no_staff, lines = rasterise(svg), rasterise(bare), rasterise(staff_lines_only(svg))
    staff_only = ink & ~no_staff
    assert not (no_staff & ~ink).any()  # every symbol pixel is on the page, so staff-only | no-staff == page
    assert not (staff_only & no_staff).any()
    assert np.array_equal(staff_only | no_staff, ink)
    assert np.array_equal(staff_only, lines & ~no_staff)  # staff-only is exactly the lines, less what symbols cover
    assert not (lines & ~ink).any()
    assert staff_only.sum() > 0.02 * ink.sum() and no_staff.sum() > 0.2 * ink.sum()


@pytest.mark.parametrize("notation", NOTATIONS)
def test_staff_lines_in_the_svg_are_horizontal_paths_of_the_drawn_count(notation):
    svg, lines = engrave(SEEDS[0], SIZE, notation)
    staves = [g for g in ET.fromstring(svg).iter(f"{{{SVG}}}g") if "staff" in g.get("class", "").split()]
    assert staves
    for staff in staves:
        paths = [child.get("d") for child in staff if child.tag == f"{{{SVG}}}path"]
        assert len(paths) == lines
        assert all(re.fullmatch(r"M-?\d+ (-?\d+) L-?\d+ \1", d) for d in paths), paths


@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_staff_line_is_drawn_unbroken(notation, seed):
    svg, lines = engrave(seed, SIZE, notation)
    _, staves = without_staff_lines(svg)
    # A line too thin for the pixel grid would vanish or break into pieces under crisp edges.
    _, pieces = ndimage.label(rasterise(staff_lines_only(svg)), structure=np.ones((3, 3), dtype=bool))
    assert pieces == staves * lines


@pytest.mark.parametrize(("notation", "seed"), FOUR_LINE_PAGES)
def test_four_line_staves_are_found_with_four_lines(notation, seed):
    page = render_page(seed, SIZE, notation)
    assert page.lines_per_staff == 4 and page.notation == notation
    for name, finder in musicstaves.FINDERS.items():
        staves = finder(page.ink)
        assert len(staves) == page.staves, name
        assert all(len(staff.lines) == 4 for staff in staves), name


def test_four_consecutive_mensural_seeds_give_five_and_four_line_staves():
    drawn = [render_page(seed, SIZE, "mensural").lines_per_staff for seed in range(len(MENSURAL_VARIANTS))]
    assert drawn == [lines for _, lines in MENSURAL_VARIANTS]


@pytest.mark.parametrize("notation", NOTATIONS)
def test_a_seed_gives_the_same_page_every_time(notation):
    first, again, other = (render_page(seed, SIZE, notation) for seed in (SEEDS[0], SEEDS[0], SEEDS[1]))
    assert np.array_equal(first.ink, again.ink) and np.array_equal(first.no_staff, again.no_staff)
    assert (first.staves, first.lines_per_staff) == (again.staves, again.lines_per_staff)
    assert not np.array_equal(first.ink, other.ink)


def test_held_out_seeds_do_not_overlap_test_seeds():
    held_out = set(held_out_seeds(50))
    assert len(held_out) == 50 and min(held_out) >= HELD_OUT
    assert held_out.isdisjoint(range(HELD_OUT))
    assert all(seed < HELD_OUT for seed in SEEDS + tuple(seed for _, seed in FOUR_LINE_PAGES))


def test_unknown_notation_is_refused():
    with pytest.raises(ValueError, match="notation"):
        render_page(1, SIZE, "tablature")


@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_exported_skeletons_are_the_drawn_lines(notation, seed):
    page = render_page(seed, SIZE, notation)
    svg, _ = engrave(seed, SIZE, notation)
    drawn = np.zeros(SIZE, dtype=bool)
    raster = rasterise(staff_lines_only(svg))[: SIZE[0], : SIZE[1]]
    drawn[: raster.shape[0], : raster.shape[1]] = raster
    assert len(page.lines) == page.staves * page.lines_per_staff
    covered = np.zeros_like(drawn)
    for line in page.lines:
        xs = np.arange(line.x0, line.x1 + 1)
        rows = np.rint(line.ys).astype(int)[:, None] + np.arange(-4, 5)[None, :]
        hits = drawn[rows, xs[:, None]]
        assert hits.any(axis=1).all()  # every column of the skeleton is drawn ...
        centres = (hits * rows).sum(axis=1) / hits.sum(axis=1)
        assert np.abs(centres - line.ys).max() <= 0.5  # ... centred on it
        covered[rows, xs[:, None]] |= hits
    assert np.array_equal(covered, drawn)  # and nothing is drawn beyond the skeletons' ends
