"""Tsai, Brink and Abutaleb without Gamera: Gamera 4.1.0's levels and pixels (``jobs.gamera.fast.global_thresholds``)."""

import numpy as np
import pytest
from gamera_pages import pages

from rodan.jobs.gamera.common import run_gamera
from rodan.jobs.gamera.engine import to_gamera
from rodan.jobs.gamera.fast import global_thresholds


def histograms():
    """Pages with awkward histograms: one level, two levels, extremes only, skewed, uniform."""
    rng = np.random.default_rng(9)
    out = list(pages())
    out += [
        ("black-and-white", np.where(rng.random((30, 40)) < 0.5, 0, 255).astype(np.uint8)),
        ("almost-white", np.where(rng.random((30, 40)) < 0.002, 0, 255).astype(np.uint8)),
        ("top-two", np.where(rng.random((25, 25)) < 0.5, 254, 255).astype(np.uint8)),
        ("bottom-two", np.where(rng.random((25, 25)) < 0.5, 0, 1).astype(np.uint8)),
        ("skewed", (255 * rng.random((50, 70)) ** 4).astype(np.uint8)),
        ("uniform", np.arange(256, dtype=np.uint8).reshape(16, 16)),
    ]
    for seed in range(6):
        local = np.random.default_rng(100 + seed)
        ink, paper = local.integers(0, 120), local.integers(130, 256)
        spread = local.integers(1, 40)
        values = np.where(local.random((64, 64)) < local.random(), ink, paper) + local.normal(0, spread, (64, 64))
        out.append((f"bimodal-{seed}", values.clip(0, 255).astype(np.uint8)))
    return out


HISTOGRAMS = histograms()
ids = [name for name, _ in HISTOGRAMS]


@pytest.mark.parametrize("grey", [g for _, g in HISTOGRAMS], ids=ids)
def test_tsai_level_and_pixels(grey):
    assert global_thresholds.tsai_find_threshold(grey) == to_gamera(grey).tsai_moment_preserving_find_threshold()
    theirs = run_gamera("tsai_moment_preserving_threshold", grey, args=(0,))
    assert np.array_equal(global_thresholds.tsai_threshold(grey), theirs)


@pytest.mark.parametrize("grey", [g for _, g in HISTOGRAMS], ids=ids)
def test_brink_pixels(grey):
    assert np.array_equal(global_thresholds.brink_threshold(grey), run_gamera("brink_threshold", grey))


def test_histograms_of_pages_beyond_float32_counts_are_exact():
    """Above 2^24 pixels OpenCV's float32 counts would round; the exact counter takes over."""
    from rodan.jobs.gamera import fast

    grey = HISTOGRAMS[-1][1]
    exact = np.bincount(grey.ravel(), minlength=256).tolist()
    assert fast.grey_histogram(grey) == exact
    big = np.zeros((4097, 4096), np.uint8)
    big[0, :3] = (1, 2, 2)
    counts = fast.grey_histogram(big)
    assert counts[:3] == [big.size - 3, 1, 2] and sum(counts) == big.size


@pytest.mark.parametrize("grey", [g for _, g in HISTOGRAMS], ids=ids)
def test_abutaleb_mean_and_pixels(grey):
    assert np.array_equal(global_thresholds.gamera_mean3(grey), run_gamera("mean", grey, args=(3, 1)))
    assert np.array_equal(global_thresholds.abutaleb_threshold(grey), run_gamera("abutaleb_threshold", grey, args=(0,)))


def test_abutaleb_counts_large_pages_exactly(monkeypatch):
    """Pages of 2^24 pixels or more are counted by NumPy, not OpenCV's float32 histogram: same pixels."""
    monkeypatch.setattr(global_thresholds, "CALCHIST_EXACT_LIMIT", 0)
    grey = pages()[-1][1]
    assert np.array_equal(global_thresholds.abutaleb_threshold(grey), run_gamera("abutaleb_threshold", grey, args=(0,)))


@pytest.mark.parametrize("grey", [g for _, g in HISTOGRAMS], ids=ids)
def test_brink_with_the_c_librarys_logarithm_everywhere(grey, monkeypatch):
    """The near-tie path (every level recomputed with math.log) gives Gamera's pixels too."""
    monkeypatch.setattr(global_thresholds, "BRINK_TRUSTED_MARGIN", np.inf)
    assert np.array_equal(global_thresholds.brink_threshold(grey), run_gamera("brink_threshold", grey))


def test_brink_on_an_a4_page():
    from gamera_pages import _page

    grey = _page(np.random.default_rng(2480), 3508, 2480)
    assert np.array_equal(global_thresholds.brink_threshold(grey), run_gamera("brink_threshold", grey))
