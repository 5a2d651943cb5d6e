"""Generated greyscale pages for comparing the fast engine with Gamera.

Each page stresses something an implementation can get wrong: borders and
degenerate sizes (1×N, N×1, 2×2, odd sizes), flat images (zero variance, a
single histogram level), noise (every threshold tie), gradients (the global
bounds), and page-like content (text strokes, staff lines, bleed-through).
"""

import cv2
import numpy as np


def _page(rng, rows, cols):
    """A scanned-page imitation: uneven paper, staff lines, dark strokes, noise."""
    y, x = np.mgrid[0:rows, 0:cols]
    paper = 200 + 30 * np.sin(x / max(cols, 1) * 3) * np.cos(y / max(rows, 1) * 2)
    image = paper + rng.normal(0, 8, (rows, cols))
    for top in range(rows // 10, rows, max(rows // 5, 8)):  # staves of five lines
        for line in range(5):
            row = top + 3 * line
            if row < rows:
                image[row, cols // 20 : cols - cols // 20] -= 120
    for _ in range(max(rows * cols // 400, 3)):  # strokes and note heads
        r, c = rng.integers(0, rows), rng.integers(0, cols)
        h, w = rng.integers(1, 9), rng.integers(1, 5)
        image[r : r + h, c : c + w] = rng.integers(5, 90)
    bleed = rng.random((rows, cols)) < 0.01
    image[bleed] -= 60
    return np.clip(image, 0, 255).astype(np.uint8)


def pages(seed=7):
    """(name, uint8 array) pairs."""
    rng = np.random.default_rng(seed)
    out = [
        ("1x1", np.array([[77]], np.uint8)),
        ("1x9", rng.integers(0, 256, (1, 9), dtype=np.uint8)),
        ("9x1", rng.integers(0, 256, (9, 1), dtype=np.uint8)),
        ("2x2", np.array([[0, 255], [128, 40]], np.uint8)),
        ("3x3", rng.integers(0, 256, (3, 3), dtype=np.uint8)),
        ("flat-white", np.full((20, 31), 255, np.uint8)),
        ("flat-black", np.zeros((17, 12), np.uint8)),
        ("flat-grey", np.full((16, 16), 100, np.uint8)),
        ("two-levels", np.where(rng.random((24, 33)) < 0.3, 30, 220).astype(np.uint8)),
        ("noise", rng.integers(0, 256, (41, 57), dtype=np.uint8)),
        ("gradient", np.add.outer(np.arange(60), np.arange(80) * 2).clip(0, 255).astype(np.uint8)),
        ("page-odd", _page(rng, 101, 77)),
        ("page", _page(rng, 160, 224)),
    ]
    return out


def onebit_pages(seed=8):
    """(name, bool array, True = white) pairs: specks of every size, lines, borders."""
    rng = np.random.default_rng(seed)
    out = [
        ("1x1-black", np.array([[False]])),
        ("1x7", rng.random((1, 7)) < 0.5),
        ("7x1", rng.random((7, 1)) < 0.5),
        ("2x5", rng.random((2, 5)) < 0.5),
        ("3x3-centre", np.array([[True, True, True], [True, False, True], [True, True, True]])),
        ("white", np.ones((9, 13), bool)),
        ("black", np.zeros((9, 13), bool)),
    ]
    for name, density, shape in [("sparse", 0.03, (64, 81)), ("dense", 0.4, (50, 47)), ("half", 0.5, (33, 35))]:
        out.append((name, rng.random(shape) >= density))
    edges = np.ones((20, 20), bool)
    edges[0, 0] = edges[0, 19] = edges[19, 0] = edges[19, 19] = edges[10, 0] = edges[0, 10] = False
    edges[5:7, 5:7] = False
    out.append(("corners", edges))
    return out


def skewed_page(seed, rows, cols, angle):
    """A ``_page`` turned by ``angle`` degrees about its centre (OpenCV, bilinear), paper-grey corners."""
    grey = _page(np.random.default_rng(seed), rows, cols)
    turn = cv2.getRotationMatrix2D((cols / 2, rows / 2), angle, 1.0)
    return cv2.warpAffine(grey, turn, (cols, rows), flags=cv2.INTER_LINEAR, borderValue=215)
