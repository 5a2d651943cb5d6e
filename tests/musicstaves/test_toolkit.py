"""The MusicStaves toolkit on generated pages, held to quality thresholds."""

import numpy as np
import pytest

import musicstaves
from musicstaves.evaluation import finder_scores, region_error, removal_scores
from musicstaves.runs import run_length_map, vertical_runs

# Undeformed pages: thresholds a little under what each method reaches, so a regression shows.
REMOVAL_THRESHOLDS = {
    "Line Tracking": 0.98,
    "Roach-Tatem": 0.97,
    "Fujinaga": 0.98,
    "Carter": 0.98,
    "Simple": 0.98,
    "Skeleton": 0.95,
}


def test_runs_of_a_small_image():
    ink = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=bool)
    column, top, bottom = vertical_runs(ink)
    assert list(zip(column, top, bottom)) == [(0, 0, 2), (1, 1, 3), (2, 0, 1), (2, 2, 3)]
    assert run_length_map(ink).tolist() == [[2, 0, 1], [2, 2, 0], [0, 2, 1]]


def test_staff_line_and_space_heights_match_the_drawing(pages):
    for page in pages:
        staff = page.staff_only
        lh = musicstaves.staffline_height(page.ink)
        assert lh == musicstaves.staffline_height(staff)
        assert abs(musicstaves.staffspace_height(page.ink) - musicstaves.staffspace_height(staff)) <= 1


def test_gamera_like_images_are_accepted(pages):
    class GameraImage:  # Gamera's one-bit images give 1 for black from to_numpy()
        def __init__(self, ink):
            self.ink = ink

        def to_numpy(self):
            return self.ink.astype(np.uint16)

    page = pages[0]
    assert len(musicstaves.find_dalitz(GameraImage(page.ink))) == len(musicstaves.find_dalitz(page.ink))


@pytest.mark.parametrize("name", list(musicstaves.FINDERS))
def test_finder_finds_every_staff_and_line(name, pages):
    for page in pages:
        staves = musicstaves.FINDERS[name](page.ink)
        scores = finder_scores(staves, page.staff_only, musicstaves.staffline_height(page.ink), page.staves, page.lines_per_staff)
        assert scores["staves_found"] == page.staves, scores
        assert scores["lines_found"] == scores["lines_drawn"], scores
        assert scores["max_position_error"] < 1.0, scores
        polygon = staves[0].polygon(margin=3)
        assert len(polygon) >= 4 and polygon[0][0] == staves[0].x0


def test_finder_honours_the_number_of_lines(pages):
    page = pages[0]
    assert all(len(staff.lines) == 3 for staff in musicstaves.find_miyao(page.ink, num_lines=3))


@pytest.mark.parametrize("name", list(musicstaves.REMOVERS))
def test_remover_quality(name, pages):
    for page in pages:
        result = musicstaves.REMOVERS[name](page.ink)
        scores = removal_scores(page.ink, page.staff_only, result.image)
        assert scores["f_measure"] >= REMOVAL_THRESHOLDS[name], scores
        assert scores["precision"] >= 0.98, scores  # symbols crossing lines are kept
        assert not (result.image & ~page.ink).any()  # nothing is added


def test_measures_of_a_perfect_and_a_lazy_result(pages):
    page = pages[0]
    perfect = removal_scores(page.ink, page.staff_only, page.no_staff)
    assert perfect["f_measure"] == 1.0 and perfect["pixel_error"] == 0.0
    assert perfect["segmentation_error"] == 0.0 and perfect["interruption_error"] == 0.0
    nothing = removal_scores(page.ink, page.staff_only, page.ink)
    assert nothing["recall"] == 0.0 and nothing["pixel_error"] == pytest.approx(page.staff_only.sum() / page.ink.sum())


def test_region_error_counts_split_and_merged_components():
    truth = np.zeros((5, 9), dtype=bool)
    truth[1:4, 1:3] = truth[1:4, 6:8] = True  # two symbols
    split = truth.copy()
    split[2, :] = False  # the first symbol cut in two, the second too
    assert region_error(truth, truth) == 0.0
    assert region_error(truth, split) == 1.0
    merged = truth.copy()
    merged[2, 3:6] = True
    assert region_error(truth, merged) == 1.0
