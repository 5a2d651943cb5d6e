"""Conversions and Invert without Gamera give Gamera 4.1.0's pixels (``jobs.gamera.fast.conversion``)."""

import numpy as np
import pytest
from gamera_pages import onebit_pages, pages

from rodan.jobs.gamera.common import run_gamera
from rodan.jobs.gamera.fast import conversion
from rodan.imaging import ImageError


def images():
    """(name, array) of every input pixel type, including the extremes of 16-bit scaling."""
    rng = np.random.default_rng(5)
    grey = pages()[-1][1]
    out = [(f"grey-{name}", page) for name, page in pages()[::3]]
    out += [(f"onebit-{name}", page) for name, page in onebit_pages()[::3]]
    out += [
        ("rgb-random", rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)),
        ("rgb-page", np.stack([grey, grey // 2, 255 - grey], axis=2)),
        ("rgb-1x1", np.array([[[10, 200, 30]]], np.uint8)),
        ("rgb-1x7", rng.integers(0, 256, (1, 7, 3), dtype=np.uint8)),
        ("rgb-7x1", rng.integers(0, 256, (7, 1, 3), dtype=np.uint8)),
        ("grey16-random", rng.integers(0, 65536, (40, 50)).astype(np.uint16)),
        ("grey16-small-max", rng.integers(0, 300, (40, 50)).astype(np.uint16)),
        ("grey16-black", np.zeros((7, 9), np.uint16)),
        ("grey16-full", np.full((3, 4), 65535, np.uint16)),
        ("grey16-page", grey.astype(np.uint16) * 200),
    ]
    return out


IMAGES = images()


@pytest.mark.parametrize("method", ["to_greyscale", "to_rgb", "to_grey16", "to_onebit", "invert"])
@pytest.mark.parametrize("image", [image for _, image in IMAGES], ids=[name for name, _ in IMAGES])
def test_same_pixels_as_gamera(method, image):
    ours = getattr(conversion, method)(image)
    theirs = run_gamera(method, image)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


def test_luminance_of_every_colour_is_vigras():
    """All 2^24 colours, the half-way ties (where the double expression decides) included."""
    levels = np.arange(256, dtype=np.uint8)
    red, green, blue = np.meshgrid(levels, levels, levels, indexing="ij")
    every = np.stack([red, green, blue], axis=-1).reshape(4096, 4096, 3)
    assert np.array_equal(conversion.luminance(every), run_gamera("to_greyscale", every))


def test_conversions_do_not_share_memory_with_their_input():
    grey = pages()[-1][1]
    assert not np.shares_memory(conversion.to_greyscale(grey), grey)


def test_other_arrays_are_a_clear_error():
    with pytest.raises(ImageError, match="expected an RGB colour image or a one-bit"):
        conversion.to_greyscale(np.zeros((3, 3, 4), np.uint8))
