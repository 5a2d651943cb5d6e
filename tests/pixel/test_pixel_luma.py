"""The fill's luma on the job's side: every 8-bit colour against the integer rule written out here.

The job computes it with floating-point sums (operations.luma); the page and
the rule in operations.py's docstring use integers. A colour exactly half-way
between two grey levels is where a float formula would round the wrong way.
"""

import numpy as np

from rodan.jobs.pixel.operations import luma, page_luma


def test_luma_equals_the_integer_rule_for_every_colour():
    levels = np.arange(256, dtype=np.int64)
    green, blue = np.meshgrid(levels, levels, indexing="ij")
    for red in range(256):
        rgb = np.stack([np.full_like(green, red), green, blue], axis=-1)
        expected = (299 * red + 587 * green + 114 * blue + 500) // 1000
        assert np.array_equal(luma(rgb.astype(np.uint8)), expected), f"a colour with red {red} differs"


def test_page_luma_by_strips_of_any_pixel_type():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (600, 37, 3), dtype=np.uint8)  # more rows than one strip
    expected = (rgb.astype(np.int64) @ np.array([299, 587, 114]) + 500) // 1000
    assert np.array_equal(page_luma(rgb), expected)
    rgba = np.concatenate([rgb, rng.integers(0, 256, (600, 37, 1), dtype=np.uint8)], axis=2)
    assert np.array_equal(page_luma(rgba), expected)  # alpha ignored
    grey = rgb[..., 0].copy()
    assert page_luma(grey) is grey  # an 8-bit grey page is its own luma
