"""The classic deformations of staff-removal evaluation, applied to a page and its ground truth together.

After Dalitz, Droettboom, Pranzas and Fujinaga, "A comparative study of
staff removal algorithms" (IEEE TPAMI 30(5), 2008, §4.1) and the ICDAR
2013 staff-removal competition: rotation, curvature, line thickness and
its variation, y-variation, line interruptions, typeset emulation,
Kanungo noise, white speckles. Every function takes a ``Page`` and a NumPy
generator and returns a new ``Page``: geometric deformations move both
images identically; those that touch only the staff lines change the staff
pixels and leave the no-staff twin as it is; noise is labelled by the
nearest original pixel (staff or symbol). Whatever moves the staff lines
(rotation, curvature, y-variation, typeset emulation) moves the page's true
line skeletons (``Page.lines``) with them.
"""

import math
from dataclasses import replace

import numpy as np
from musicstaves import StaffLine, staffline_height, staffspace_height
from scipy import ndimage


def _with_images(page, ink, no_staff, lines=None):
    """The page with new images (and line skeletons, if given), everything else it records kept."""
    return replace(page, ink=ink, no_staff=no_staff, lines=page.lines if lines is None else lines)


def _shifted_lines(lines, dy):
    """Line skeletons moved down by ``dy[x]`` rounded, as ``_shift_columns`` moves the pixels."""
    return [StaffLine(line.x0, line.ys + np.rint(dy[line.x0 : line.x1 + 1])) for line in lines]


def _rotated_lines(lines, angle, shape):
    """Line skeletons turned by ``angle`` degrees about the image centre, as ``ndimage.rotate`` turns pixels.

    Each turned line is resampled at the whole columns it spans inside the image.
    """
    theta = np.deg2rad(angle)
    centre_y, centre_x = (shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0
    turned = []
    for line in lines:
        x, y = np.arange(line.x0, line.x1 + 1) - centre_x, line.ys - centre_y
        new_x = np.cos(theta) * x + np.sin(theta) * y + centre_x
        new_y = -np.sin(theta) * x + np.cos(theta) * y + centre_y
        order = np.argsort(new_x)
        columns = np.arange(max(0, int(np.ceil(new_x.min()))), min(shape[1] - 1, int(np.floor(new_x.max()))) + 1)
        if columns.size:
            turned.append(StaffLine(int(columns[0]), np.interp(columns, new_x[order], new_y[order])))
    return turned


def _with_staff(page, staff):
    """The page with its staff pixels replaced by ``staff`` (symbol pixels untouched)."""
    return _with_images(page, page.no_staff | staff, page.no_staff.copy())


def _relabelled(page, ink):
    """A page of new ``ink`` whose pixels take the label (staff / symbol) of the nearest original black pixel."""
    _, (rows, cols) = ndimage.distance_transform_edt(~page.ink, return_indices=True)
    staff = ink & page.staff_only[rows, cols]
    return _with_images(page, ink, ink & ~staff)


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
    return _with_images(page, turn(page.ink), turn(page.no_staff), _rotated_lines(page.lines, angle, page.ink.shape))


def curvature(page, rng):
    width = page.ink.shape[1]
    dy = rng.uniform(0.01, 0.03) * width * np.sin(np.pi * np.arange(width) / width)
    return _with_images(page, _shift_columns(page.ink, dy), _shift_columns(page.no_staff, dy), _shifted_lines(page.lines, dy))


def line_thickness(page, rng):
    extra = int(rng.integers(1, 3))
    staff = ndimage.binary_dilation(page.staff_only, structure=np.ones((2 * extra + 1, 1), dtype=bool))
    return _with_staff(page, staff & ~page.no_staff)


def _markov_states(rng, count, states, stay):
    """A Metropolis-Hastings chain over ``states`` values with a binomial(states - 1, 1/2) stationary law.

    Dalitz's staff deformations draw thickness and y-offset per column from
    such a chain: it stays put with probability at least ``stay`` (inertia)
    and otherwise moves to a neighbouring state, so values drift smoothly
    along a line and are centred on the middle state.
    """
    weights = np.array([math.comb(states - 1, k) for k in range(states)], dtype=float)
    proposal = np.zeros((states, states))  # proposal[i, j]: probability to propose j from i
    for i in range(states):
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < states]
        proposal[i, i] = stay
        for j in neighbours:
            proposal[i, j] = (1 - stay) / len(neighbours)
    cumulative = np.cumsum(proposal, axis=1)
    draws, accepts = rng.random(count), rng.random(count)
    state, out = (states - 1) // 2, np.empty(count, dtype=np.int64)
    for n in range(count):
        target = min(states - 1, int(np.searchsorted(cumulative[state], draws[n], side="right")))
        if accepts[n] < weights[target] * proposal[target, state] / (weights[state] * proposal[state, target]):
            state = target
        out[n] = state
    return out


def _staff_lines(page):
    """The drawn staff lines of an undeformed page: (centre row, thickness, first column, last column)."""
    rows = np.flatnonzero(page.staff_only.any(axis=1))
    bands = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if rows.size else []
    lines = []
    for band in bands:
        columns = np.flatnonzero(page.staff_only[band].any(axis=0))
        lines.append(((band[0] + band[-1]) / 2.0, len(band), int(columns[0]), int(columns[-1])))
    return lines


def _draw_lines(shape, lines, centres, thicknesses, rng):
    """Staff lines drawn column by column at ``centres[k][x]`` with ``thicknesses[k][x]`` pixels.

    An even thickness has no middle pixel; as in Dalitz's deformations the
    extra pixel goes above or below at random, redrawn when the thickness changes.
    """
    staff = np.zeros(shape, dtype=bool)
    for (_, _, x0, x1), centre, thickness in zip(lines, centres, thicknesses):
        xs = np.arange(x0, x1 + 1)
        segment = np.concatenate([[0], np.cumsum(np.diff(thickness) != 0)])
        shift = rng.integers(0, 2, size=segment[-1] + 1)[segment] * (thickness % 2 == 0)
        top = np.floor(centre - (thickness - 1) / 2.0 + 0.5 * shift).astype(int)
        rows = top[:, None] + np.arange(max(1, thickness.max()))[None, :]
        inside = (np.arange(rows.shape[1])[None, :] < thickness[:, None]) & (rows >= 0) & (rows < shape[0])
        staff[rows[inside], np.broadcast_to(xs[:, None], rows.shape)[inside]] = True
    return staff


def _redrawn(page, lines, centres, thicknesses, rng):
    """The page with its staff lines replaced by the ones drawn (symbols stay on top)."""
    return _with_staff(page, _draw_lines(page.ink.shape, lines, centres, thicknesses, rng) & ~page.no_staff)


def thickness_variation(page, rng, stay=0.8):
    """Dalitz's ``staffline_thickness_variation``: every line redrawn with a per-column Markov thickness.

    Thickness runs from 1 to twice the page's line height (Dalitz et al.
    used 1 to 2..10 pixels), binomially distributed around the middle, with
    inertia ``stay`` (0.8 in their experiments).
    """
    lines = _staff_lines(page)
    widths = [x1 - x0 + 1 for _, _, x0, x1 in lines]
    chain = _markov_states(rng, sum(widths), 2 * staffline_height(page.staff_only), stay) + 1
    bounds = np.cumsum([0] + widths)
    thicknesses = [chain[bounds[k] : bounds[k + 1]] for k in range(len(lines))]
    centres = [np.full(w, line[0]) for line, w in zip(lines, widths)]
    return _redrawn(page, lines, centres, thicknesses, rng)


def y_variation(page, rng, max_diff=5, stay=0.8):
    """Dalitz's ``staffline_y_variation``: every line redrawn at a per-column Markov y-offset.

    The offset runs over ``-max_diff .. max_diff`` (Dalitz et al. used 2..10),
    binomially distributed around 0, with inertia ``stay``; each line keeps
    its drawn thickness.
    """
    lines = _staff_lines(page)
    widths = [x1 - x0 + 1 for _, _, x0, x1 in lines]
    chain = _markov_states(rng, sum(widths), 2 * max_diff + 1, stay) - max_diff
    bounds = np.cumsum([0] + widths)
    centres = [line[0] + chain[bounds[k] : bounds[k + 1]] for k, line in enumerate(lines)]
    thicknesses = [np.full(w, line[1]) for line, w in zip(lines, widths)]
    moved = replace(page, lines=[StaffLine(x0, centre.astype(float)) for (_, _, x0, _), centre in zip(lines, centres)])
    return _redrawn(moved, lines, centres, thicknesses, rng)


def interruptions(page, rng, alpha=0.02, n=6):
    """Dalitz's ``staffline_interruptions``: every line cut independently at random columns.

    Along each line every column starts a gap with probability ``alpha``,
    of a width drawn uniformly from 1 to ``n`` columns (Dalitz et al. used
    alpha from 0.01 to 0.05 and n = 6); the line's pixels in the gap, and
    only that line's, are removed from the page and its ground truth.
    """
    staff = page.staff_only
    reach = np.arange(-staffline_height(staff), staffline_height(staff) + 1)
    cut = np.zeros_like(staff)
    for line in page.lines:
        width = line.x1 - line.x0 + 1
        starts = np.flatnonzero(rng.random(width) < alpha)
        delta = np.zeros(width + n + 1, dtype=np.int32)
        np.add.at(delta, starts, 1)
        np.add.at(delta, starts + rng.integers(1, n + 1, size=starts.size), -1)
        gap = np.flatnonzero(np.cumsum(delta)[:width] > 0)
        rows = np.clip(np.rint(line.ys[gap]).astype(int)[:, None] + reach[None, :], 0, staff.shape[0] - 1)
        cut[rows, (line.x0 + gap)[:, None]] = True
    return _with_staff(page, staff & ~cut)


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
    return _with_staff(replace(page, lines=_shifted_lines(page.lines, dy)), staff & ~page.no_staff)


def kanungo(page, rng, eta=0.0, a0=0.5, a=0.5, b0=0.5, b=0.5, k=2):
    """Kanungo et al.'s degradation model as Gamera's ``degrade_kanungo`` computes it (its example parameters).

    A black pixel at chessboard distance d (1 on the border) from the
    nearest white pixel turns white with probability a0·exp(-a·d²) + eta, a
    white pixel at distance d from the nearest black one turns black with
    b0·exp(-b·d²) + eta (no flip beyond d = 32), then a k×k closing smooths
    the result. Kanungo, Haralick, Baird et al., IEEE TPAMI 22(11), 2000.
    """
    inside = ndimage.distance_transform_cdt(page.ink, metric="chessboard").astype(float)
    outside = ndimage.distance_transform_cdt(~page.ink, metric="chessboard").astype(float)
    flip_black = (inside <= 32) & (rng.random(page.ink.shape) < a0 * np.exp(-a * inside**2) + eta)
    flip_white = (outside <= 32) & (rng.random(page.ink.shape) < b0 * np.exp(-b * outside**2) + eta)
    noisy = np.where(page.ink, ~flip_black, flip_white)
    if k > 1:
        noisy = ndimage.binary_closing(noisy, structure=np.ones((k, k), dtype=bool))
    return _relabelled(page, noisy)


def white_speckles(page, rng, p=0.05, n=5, k=2):
    """Gamera's ``white_speckles`` with its example parameters: random walks whitened out of the ink.

    Each black pixel starts, with probability ``p``, a walk of ``n`` random
    king moves; the walks are closed with a k×k square and removed from the
    page and its ground truth alike (Dalitz et al. 2008, §4.1).
    """
    height, width = page.ink.shape
    rows, cols = np.nonzero(page.ink & (rng.random(page.ink.shape) < p))
    walk = np.zeros(page.ink.shape, dtype=bool)
    walk[rows, cols] = True
    moves = np.array([(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)])
    alive = np.ones(len(rows), dtype=bool)
    for _ in range(n):
        alive &= (rows > 0) & (rows < height - 1) & (cols > 0) & (cols < width - 1)  # walks stop at the border
        step = moves[rng.integers(0, 8, size=len(rows))]
        rows, cols = np.where(alive, rows + step[:, 0], rows), np.where(alive, cols + step[:, 1], cols)
        walk[rows, cols] = True
    if k > 1:
        walk = ndimage.binary_closing(walk, structure=np.ones((k, k), dtype=bool))
    ink = page.ink & ~walk
    return _with_images(page, ink, page.no_staff & ink)


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
