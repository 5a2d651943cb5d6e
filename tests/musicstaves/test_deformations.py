"""The deformations of bench/staves/deform.py: faithful to Dalitz's, and moving the true line skeletons with the lines."""

import numpy as np
import pytest

from bench.staves.deform import DEFORMATIONS, interruptions


def _gap_columns(page, line, reach=2):
    """Columns of ``line`` with no staff pixel within ``reach`` rows of its skeleton."""
    xs = np.arange(line.x0, line.x1 + 1)
    rows = np.rint(line.ys).astype(int)[:, None] + np.arange(-reach, reach + 1)[None, :]
    return set(xs[~page.staff_only[rows, xs[:, None]].any(axis=1)])


def test_interruptions_cut_each_line_on_its_own(pages):
    page = pages[0]
    cut = interruptions(page, np.random.default_rng(7))
    assert np.array_equal(cut.no_staff, page.no_staff)  # symbols untouched
    assert not (cut.ink & ~page.ink).any() and np.array_equal(cut.ink, cut.no_staff | cut.staff_only)
    gaps = [_gap_columns(cut, line) - _gap_columns(page, line) for line in page.lines]
    widths = [line.x1 - line.x0 + 1 for line in page.lines]
    share = sum(map(len, gaps)) / sum(widths)
    assert 0.5 * 0.02 * 3.5 < share < 2 * 0.02 * 3.5  # alpha = 0.02, widths 1..6: about 7 % of every line
    for upper, lower in zip(gaps, gaps[1:]):  # neighbouring lines are not cut at the same columns
        assert len(upper & lower) < 0.3 * min(len(upper), len(lower))


def test_interruptions_are_reproducible(pages):
    first, again, other = (interruptions(pages[1], np.random.default_rng(seed)) for seed in (3, 3, 4))
    assert np.array_equal(first.ink, again.ink) and np.array_equal(first.no_staff, again.no_staff)
    assert not np.array_equal(first.ink, other.ink)


@pytest.mark.parametrize("deformation", list(DEFORMATIONS))
def test_skeletons_follow_the_deformed_lines(deformation, pages):
    """Along every true skeleton the staff pixels of each column are centred on it (within a pixel: stair steps)."""
    for k, page in enumerate(pages):
        page = DEFORMATIONS[deformation](page, np.random.default_rng([k, 1]))
        assert len(page.lines) == page.staves * page.lines_per_staff
        reach = 6
        for line in page.lines:
            xs = np.arange(line.x0, line.x1 + 1)
            rows = np.clip(np.rint(line.ys).astype(int)[:, None] + np.arange(-reach, reach + 1)[None, :], 0, page.ink.shape[0] - 1)
            hits = page.staff_only[rows, xs[:, None]]
            seen = hits.any(axis=1)
            assert seen.mean() > 0.6, deformation  # symbols and gaps hide the rest
            error = np.abs((hits * rows).sum(axis=1)[seen] / hits.sum(axis=1)[seen] - line.ys[seen])
            assert np.median(error) <= 0.75 and np.mean(error) <= 0.75, deformation
