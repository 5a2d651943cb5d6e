"""The classic deformations of staff-removal evaluation, applied to a page and its ground truth together.

After Dalitz, Droettboom, Pranzas and Fujinaga, "A comparative study of
staff removal algorithms" (IEEE TPAMI 30(5), 2008, §4.1) and the ICDAR
2013 staff-removal competition: rotation, curvature, line thickness and
its variation, y-variation, line interruptions, typeset emulation,
Kanungo noise, white speckles. Every function takes a ``Page`` and a NumPy
generator and returns a new ``Page``: geometric deformations move both
images identically; those that touch only the staff lines change the staff
pixels and leave the no-staff twin as it is; noise is labelled by the
nearest original pixel (staff or symbol).
"""

import numpy as np
from musicstaves import staffspace_height
from scipy import ndimage

from .generate import Page


def _with_staff(page, staff):
    """The page with its staff pixels replaced by ``staff`` (symbol pixels untouched)."""
    return Page(page.no_staff | staff, page.no_staff.copy(), page.staves, page.lines_per_staff)


def _relabelled(page, ink):
    """A page of new ``ink`` whose pixels take the label (staff / symbol) of the nearest original black pixel."""
    _, (rows, cols) = ndimage.distance_transform_edt(~page.ink, return_indices=True)
    staff = ink & page.staff_only[rows, cols]
    return Page(ink, ink & ~staff, page.staves, page.lines_per_staff)


def _spacing(page):
    return staffspace_height(page.staff_only)


def _shift_columns(image, dy):
    """Each column moved down by ``dy[x]`` pixels (rounded), white filling."""
    height = image.shape[0]
    rows = np.arange(height)[:, None] - np.rint(dy).astype(int)[None, :]
    inside = (rows >= 0) & (rows < height)
    return np.where(inside, image[np.clip(rows, 0, height - 1), np.arange(image.shape[1])[None, :]], False)


def rotation(page, rng):
    angle = float(rng.uniform(1.0, 3.0) * rng.choice([-1, 1]))
    turn = lambda image: ndimage.rotate(image, angle, reshape=False, order=0, mode="constant", cval=False)  # noqa: E731
    return Page(turn(page.ink), turn(page.no_staff), page.staves, page.lines_per_staff)


def curvature(page, rng):
    width = page.ink.shape[1]
    dy = rng.uniform(0.01, 0.03) * width * np.sin(np.pi * np.arange(width) / width)
    return Page(_shift_columns(page.ink, dy), _shift_columns(page.no_staff, dy), page.staves, page.lines_per_staff)


def line_thickness(page, rng):
    extra = int(rng.integers(1, 3))
    staff = ndimage.binary_dilation(page.staff_only, structure=np.ones((2 * extra + 1, 1), dtype=bool))
    return _with_staff(page, staff & ~page.no_staff)


def thickness_variation(page, rng):
    width = page.ink.shape[1]
    chunk = 4 * _spacing(page)
    extra = np.repeat(rng.integers(0, 3, size=width // chunk + 1), chunk)[:width]
    staff = page.staff_only.copy()
    for k in (1, 2):
        grown = ndimage.binary_dilation(page.staff_only, structure=np.ones((2 * k + 1, 1), dtype=bool))
        staff |= grown & (extra >= k)[None, :]
    return _with_staff(page, staff & ~page.no_staff)


def y_variation(page, rng):
    width = page.ink.shape[1]
    x = np.arange(width)
    dy = sum(rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * x / rng.uniform(200, 800) + rng.uniform(0, 6)) for _ in range(2))
    return _with_staff(page, _shift_columns(page.staff_only, dy) & ~page.no_staff)


def interruptions(page, rng):
    width = page.ink.shape[1]
    gaps = np.zeros(width, dtype=bool)
    for start in rng.integers(0, width, size=width // 60):
        gaps[start : start + int(rng.integers(2, 8))] = True
    return _with_staff(page, page.staff_only & ~gaps[None, :])


def typeset_emulation(page, rng):
    """Staff lines cut into horizontal pieces, each moved up or down by a pixel, with small gaps between."""
    width = page.ink.shape[1]
    spacing = _spacing(page)
    dy = np.zeros(width)
    gaps = np.zeros(width, dtype=bool)
    x = 0
    while x < width:
        piece = int(rng.integers(3 * spacing, 8 * spacing))
        dy[x : x + piece] = rng.integers(-1, 2)
        gaps[x : x + int(rng.integers(1, 3))] = True
        x += piece
    staff = _shift_columns(page.staff_only, dy) & ~gaps[None, :]
    return _with_staff(page, staff & ~page.no_staff)


def kanungo(page, rng, a0=0.5, a=1.0, b0=0.5, b=1.0, eta=0.0, k=2):
    """Kanungo et al.'s local degradation model (ICDAR 1993): flips likelier near edges, then a closing."""
    inside = ndimage.distance_transform_edt(page.ink)
    outside = ndimage.distance_transform_edt(~page.ink)
    flip_black = rng.random(page.ink.shape) < a0 * np.exp(-a * (inside - 1) ** 2) + eta
    flip_white = rng.random(page.ink.shape) < b0 * np.exp(-b * (outside - 1) ** 2) + eta
    noisy = np.where(page.ink, ~flip_black, flip_white)
    noisy = ndimage.binary_closing(noisy, structure=np.ones((k, k), dtype=bool))
    return _relabelled(page, noisy)


def white_speckles(page, rng, p=0.025, size=2):
    seeds = page.ink & (rng.random(page.ink.shape) < p)
    speckles = ndimage.binary_dilation(seeds, structure=np.ones((size, size), dtype=bool))
    ink = page.ink & ~speckles
    return Page(ink, page.no_staff & ink, page.staves, page.lines_per_staff)


DEFORMATIONS = {
    "none": lambda page, rng: page,
    "rotation": rotation,
    "curvature": curvature,
    "line thickness": line_thickness,
    "thickness variation": thickness_variation,
    "y-variation": y_variation,
    "interruptions": interruptions,
    "typeset emulation": typeset_emulation,
    "Kanungo noise": kanungo,
    "white speckles": white_speckles,
}
