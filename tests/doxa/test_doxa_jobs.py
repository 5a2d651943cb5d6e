"""The Δoxa binarization jobs, called as the worker calls them."""

import jsonschema
import numpy as np
import pytest
from gamera_pages import pages

from rodan.jobs.doxa import binarization
from rodan.jobs.gamera import fast
from rodan.identify import identify
from rodan.imaging import ImageError, load_image, save_png
from rodan.jobs.base import RodanTask

JOBS = [c for c in vars(binarization).values() if isinstance(c, type) and issubclass(c, RodanTask) and c.name]
PAGE = pages()[-1][1]


def run(job, grey_path, tmp_path, settings=None):
    outputs = [str(tmp_path / f"out{i}") for i in range(2)]
    job().run_my_task(
        {"Greyscale PNG image": [{"resource_path": str(grey_path), "resource_type": "image/greyscale+png"}]},
        settings or {},
        {"Onebit PNG image": [{"resource_path": p, "resource_type": "image/onebit+png"} for p in outputs]},
    )
    for path in outputs:
        assert identify(path) == "image/onebit+png"
    return [load_image(p) for p in outputs]


@pytest.fixture
def page_path(tmp_path):
    path = tmp_path / "page"
    save_png(PAGE, str(path), "image/greyscale+png")
    return path


def test_seven_methods_with_their_own_names():
    assert sorted(j.name for j in JOBS) == sorted([
        "Sauvola Threshold (textbook, Doxa)", "Wolf Threshold (Doxa)", "NICK Threshold (Doxa)", "Su Threshold (Doxa)",
        "ISauvola Threshold (Doxa)", "T.R. Singh Threshold (Doxa)", "WAN Threshold (Doxa)",
    ])
    for job in JOBS:
        jsonschema.Draft4Validator.check_schema(job.settings)
        assert job.settings["job_queue"] == "Python3" and job.category == "Binarization (Doxa)"


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_job_gives_doxas_pixels_on_every_output(job, page_path, tmp_path):
    settings = {"Window": 25}
    first, second = run(job, page_path, tmp_path, settings)
    assert np.array_equal(first, second)
    props = job.settings["properties"]
    params = {{"k": "k", "Minimum high-contrast pixels": "minN"}[n]: s["default"] for n, s in props.items() if n != "Window"}
    direct = PAGE.copy()
    binarization.doxapy.Binarization.update_to_binary(
        getattr(binarization.ALGORITHMS, job.__name__.upper().replace("SAUVOLATEXTBOOK", "SAUVOLA")), direct,
        {"window": 25, **params},
    )
    assert np.array_equal(first, direct == 255)
    assert 0.01 < (~first).mean() < 0.6  # ink found, page not blackened


def test_textbook_sauvola_is_not_gameras(page_path, tmp_path):
    (textbook, _) = run(binarization.SauvolaTextbook, page_path, tmp_path, {"Window": 15, "k": 0.5})
    assert not np.array_equal(textbook, fast.sauvola_threshold(PAGE, 15, 0.5, 128, 0, 256))


@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (5, 5)])
@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_image_smaller_than_the_window_is_refused_not_a_crash(job, shape, tmp_path):
    path = tmp_path / "small"
    save_png(np.full(shape, 120, np.uint8), str(path), "image/greyscale+png")
    with pytest.raises(ImageError, match="does not fit"):
        run(job, path, tmp_path)


def test_rgb_input_is_a_clear_error(tmp_path):
    path = tmp_path / "rgb"
    save_png(np.zeros((80, 80, 3), np.uint8), str(path), "image/rgb+png")
    with pytest.raises(ImageError, match="expected an 8-bit greyscale image, got an RGB colour image"):
        run(binarization.Wolf, path, tmp_path)
