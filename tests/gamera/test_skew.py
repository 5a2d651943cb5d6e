"""Correct Skew: the fast engine finds Gamera 4.1.0's angle and turns pages into Gamera's pixels.

Pages are generated (``gamera_pages``: staves, strokes, noise) and skewed by
known angles with OpenCV; the references are Gamera's own plugins.
"""

import json

import numpy as np
import pytest
from gamera_pages import onebit_pages, pages, skewed_page

from rodan.jobs.gamera import engine, skew as job_module
from rodan.jobs.gamera.fast import skew
from rodan.imaging import ImageError, load_image, save_png


SKEWED = [
    ("a5-ish", skewed_page(1, 420, 297, 1.7)),
    ("odd", skewed_page(2, 301, 187, -0.9)),
    ("wide", skewed_page(3, 150, 401, 2.2)),
    ("tall", skewed_page(4, 503, 111, -2.4)),
    ("straight", skewed_page(5, 255, 255, 0.0)),
    ("small", skewed_page(6, 61, 83, 1.1)),
    ("steep", skewed_page(7, 240, 320, -12.0)),
]
ONEBIT_SKEWED = [(name, grey > 128) for name, grey in SKEWED]
ids = [name for name, _ in SKEWED]

# (minimum angle, maximum angle, accuracy)
RANGES = [(-2.5, 2.5, 0.0), (-5.0, 5.0, 0.0), (-2.5, 2.5, 0.05), (-1.0, 3.0, 0.0), (-0.3, 0.4, 0.0),
          (-15.0, 0.0, 0.2), (-45.0, 45.0, 0.5)]


def gamera_angle(onebit, *args):
    try:
        return engine.to_gamera(onebit).rotation_angle_projections(*args)
    except RuntimeError:
        return "range end"


def our_angle(onebit, *args):
    try:
        return skew.rotation_angle(onebit, *args)
    except ImageError as exc:
        assert "end of the searched range" in str(exc)
        return "range end"


@pytest.mark.parametrize("search", RANGES, ids=str)
@pytest.mark.parametrize("onebit", [o for _, o in ONEBIT_SKEWED], ids=ids)
def test_angle_equals_gamera(onebit, search):
    assert our_angle(onebit, *search) == gamera_angle(onebit, *search)


def test_estimate_finds_the_skew():
    angle, accuracy = skew.rotation_angle(ONEBIT_SKEWED[0][1])
    assert abs(abs(angle) - 1.7) < 0.1 and accuracy > 0


def gamera_rotate(image, angle):
    return engine.from_gamera(engine.to_gamera(image).rotate(angle, None, 1))


def same(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    differing = int(np.count_nonzero(ours != theirs))
    assert differing == 0, f"{differing} of {ours.size} pixels differ"


def rotation_corpus():
    grey = pages()[-1][1]
    out = [(name, g) for name, g in pages() if min(g.shape) >= 2]
    out += [(name, o) for name, o in onebit_pages() if min(o.shape) >= 2]
    out += [
        ("rgb", np.stack([grey, grey // 2, 255 - grey], axis=2)),
        ("grey16", grey.astype(np.uint16) * 257),
        ("onebit-page", ONEBIT_SKEWED[1][1]),
    ]
    return out


ROTATIONS = [0.0, 1e-7, -1e-12, 1.3, -1.3, 2.5, -0.011, 0.7312345, 12.345678, 30.0, -44.9, 45.0, -45.0]


@pytest.mark.parametrize("angle", ROTATIONS)
@pytest.mark.parametrize("image", [i for _, i in rotation_corpus()], ids=[n for n, _ in rotation_corpus()])
def test_rotation_equals_gamera(image, angle):
    """Including one-bit half-way values at 30 degrees (Gamera rounds them to white) and no-padding turns."""
    same(skew.rotate(image, angle), gamera_rotate(image, angle))


def test_rotation_of_one_bit_arrays_with_true_stored_as_255(tmp_path):
    save_png(ONEBIT_SKEWED[0][1], str(tmp_path / "page"), "image/onebit+png")
    onebit = load_image(str(tmp_path / "page"))
    same(skew.rotate(onebit, 1.7), gamera_rotate(onebit, 1.7))


@pytest.mark.parametrize("kind", ["onebit", "greyscale", "rgb", "grey16"])
@pytest.mark.parametrize("name, grey", SKEWED[:3], ids=ids[:3])
def test_correct_skew_equals_gamera(name, grey, kind):
    image = {
        "onebit": grey > 128,
        "greyscale": grey,
        "rgb": np.stack([grey, grey, grey // 3], axis=2),
        "grey16": grey.astype(np.uint16) * 250,
    }[kind]
    ours, angle, accuracy = skew.correct_skew(image)
    theirs, gamera_angle_found, gamera_accuracy = job_module.gamera_correct_skew(image, -2.5, 2.5, 0.0)
    assert (angle, accuracy) == (gamera_angle_found, gamera_accuracy)
    same(ours, theirs)


@pytest.mark.parametrize("correct", [skew.correct_skew, job_module.gamera_correct_skew], ids=["fast", "gamera"])
def test_blank_page_comes_back_unchanged(correct):
    blank = np.full((40, 30), 230, np.uint8)
    page, angle, accuracy = correct(blank, -2.5, 2.5, 0.0)
    same(page, blank)
    assert angle == 0.0 and accuracy == pytest.approx(180 * 0.5 / (30 * np.pi))


@pytest.mark.parametrize("correct", [skew.correct_skew, job_module.gamera_correct_skew], ids=["fast", "gamera"])
@pytest.mark.parametrize(
    "image, search, message",
    [
        (np.zeros((1, 30), np.uint8), (-2.5, 2.5, 0.0), "at least 2×2 pixels, got 30×1"),
        (np.zeros((30, 1), bool), (-2.5, 2.5, 0.0), "at least 2×2 pixels, got 1×30"),
        (ONEBIT_SKEWED[0][1], (2.5, -2.5, 0.0), "minimum < maximum"),
        (ONEBIT_SKEWED[0][1], (-50.0, 2.5, 0.0), "-45 <= minimum"),
        (ONEBIT_SKEWED[0][1], (-2.5, 2.5, -1.0), "accuracy must not be negative"),
        (ONEBIT_SKEWED[3][1], (0.0, 1.0, 0.0), "end of the searched range"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(correct, image, search, message):
    with pytest.raises(ImageError, match=message):
        correct(image, *search)


def test_wrong_pixel_type_is_refused():
    with pytest.raises(ImageError, match="expected"):
        skew.correct_skew(np.zeros((9, 9, 4), np.uint8))
    with pytest.raises(ImageError, match="expected a one-bit"):
        skew.rotation_angle(np.zeros((9, 9), np.uint8))


@pytest.mark.parametrize("chosen", engine.ENGINES)
def test_job_on_each_engine(chosen, tmp_path, monkeypatch):
    monkeypatch.setenv(engine.ENGINE_ENV, chosen)
    onebit = ONEBIT_SKEWED[1][1]
    source = tmp_path / "page"
    save_png(onebit, str(source), "image/onebit+png")
    inputs = {"PNG image": [{"resource_path": str(source), "resource_type": "image/onebit+png", "resource_name": "p"}]}
    outputs = {
        "PNG image": [{"resource_path": str(tmp_path / "out"), "resource_type": "image/onebit+png"}],
        "Skew angle (JSON)": [{"resource_path": str(tmp_path / "angle"), "resource_type": "application/json"}],
    }
    job_module.CorrectSkew().run_my_task(inputs, {"Minimum angle": -3.0, "Maximum angle": 3.0}, outputs)
    expected, angle, accuracy = skew.correct_skew(onebit, -3.0, 3.0, 0.0)
    same(load_image(str(tmp_path / "out")), expected)
    assert json.loads((tmp_path / "angle").read_text()) == {"angle": angle, "accuracy": accuracy}


@pytest.mark.parametrize("angle", [1.7, -0.4, 1e-7])
@pytest.mark.parametrize("image", [ONEBIT_SKEWED[1][1], SKEWED[1][1]], ids=["onebit", "greyscale"])
def test_rotation_across_bands_and_blocks(image, angle, monkeypatch):
    """Pages taller than a band and wider than a block, so their seams are crossed."""
    monkeypatch.setattr(skew, "POSITIONS_PER_BAND", 37 * 200)
    monkeypatch.setattr(skew, "COLUMNS_PER_BLOCK", 11)
    same(skew.rotate(image, angle), gamera_rotate(image, angle))
