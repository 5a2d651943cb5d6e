"""The conversion jobs of jobs/utilities/conversions.py, called as the worker calls them.

Inputs and outputs are Rodan-shaped dicts (rodan-compat.md §4.3); results
are checked by pixels and by identifying the written file's content.
"""

import inspect
import unittest
import uuid

import jsonschema
import numpy as np
import pytest
from PIL import Image

from rodan.jobs.utilities import conversions
from rodan.jobs.utilities.conversions import ResizeImage, ToGreyscalePng, ToOnebitPng, ToRgbPng, ToTiff, target_size
from rodan.identify import identify
from rodan.imaging import ImageError, load_image
from rodan.jobs.base import RodanTask
from rodan.resource_types import expand_resource_types

JOBS = [ToRgbPng, ToGreyscalePng, ToOnebitPng, ResizeImage, ToTiff]
PNG_TYPES = {
    "onebit": "image/onebit+png",
    "greyscale": "image/greyscale+png",
    "grey16": "image/grey16+png",
    "rgb": "image/rgb+png",
    "rgba": "image/rgba+png",
}


@pytest.fixture
def rng():
    return np.random.default_rng(4)


@pytest.fixture
def upload(tmp_path):
    """Write an array with Pillow in the given format to an extension-less path; return the input entry."""

    def _upload(array, format_="PNG", name="folio 1r", **options):
        path = tmp_path / uuid.uuid4().hex
        Image.fromarray(array).save(path, format=format_, **options)
        return {"resource_path": str(path), "resource_type": identify(str(path)), "resource_name": name}

    return _upload


@pytest.fixture
def output(tmp_path):
    """A Rodan output entry: a fresh path without extension, and the type fixed at run creation."""

    def _output(resource_type):
        return {"resource_path": str(tmp_path / uuid.uuid4().hex), "resource_type": resource_type}

    return _output


def page(rng, shape=(40, 60)):
    """A small scanned-page-like greyscale image: noisy paper with two dark strokes."""
    grey = np.clip(rng.normal(210, 10, shape), 0, 255)
    grey[10:13, 5:55] = 35
    grey[25:35, 20:24] = 50
    return grey.astype(np.uint8)


def colour_page(rng):
    grey = page(rng)
    return np.stack([grey, (grey * 0.9).astype(np.uint8), (grey * 0.75).astype(np.uint8)], axis=2)


def written(entry):
    """The pixels and identified type of an output the job wrote."""
    return load_image(entry["resource_path"]), identify(entry["resource_path"])


# -- declarations ---------------------------------------------------------------


def test_the_module_defines_exactly_the_five_jobs_so_discovery_registers_nothing_else():
    defined = [
        cls
        for _, cls in inspect.getmembers(conversions, inspect.isclass)
        if issubclass(cls, RodanTask) and cls.__module__ == conversions.__name__
    ]
    assert sorted(cls.name for cls in defined) == sorted(
        ["To RGB PNG", "To greyscale PNG", "To one-bit PNG", "Resize image", "To TIFF"]
    )


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_declarations_follow_the_job_contract(job):
    assert job.category == "Image Conversion" and job.enabled and not job.interactive
    assert job.settings["job_queue"] == "celery" and job.settings["type"] == "object"
    jsonschema.Draft4Validator.check_schema(job.settings)
    (port,) = job.input_port_types
    assert (port["name"], port["minimum"], port["maximum"], port["is_list"]) == ("Image", 1, 1, False)
    accepted = expand_resource_types(port["resource_types"])
    assert set(accepted) >= {"image/onebit+png", "image/grey16+png", "image/rgba+png"}
    assert all(mimetype.startswith("image/") for mimetype in accepted)
    (out,) = job.output_port_types
    assert (out["minimum"], out["maximum"]) == (1, 2)
    assert expand_resource_types(out["resource_types"])


def test_only_resize_is_restricted_to_pngs_and_converters_also_take_jpeg_tiff_jp2():
    resize_types = expand_resource_types(ResizeImage.input_port_types[0]["resource_types"])
    assert all(mimetype.endswith("png") for mimetype in resize_types) and len(resize_types) == 6
    assert expand_resource_types(ResizeImage.output_port_types[0]["resource_types"]) == resize_types
    rgb_types = expand_resource_types(ToRgbPng.input_port_types[0]["resource_types"])
    assert {"image/rgb+jpg", "image/tiff", "image/jp2"} <= set(rgb_types)


def test_resize_settings_schema_bounds_the_scale():
    validator = jsonschema.Draft4Validator(ResizeImage.settings)
    assert validator.is_valid({"Scale": 8}) and validator.is_valid({"Scale": 0.01, "Width": 0})
    assert not validator.is_valid({"Scale": 0})
    assert not validator.is_valid({"Scale": 8.5})
    assert not validator.is_valid({"Width": -1})
    assert not validator.is_valid({"Height": 1.5})


# -- the three PNG conversions ---------------------------------------------------


@pytest.mark.parametrize("kind", PNG_TYPES)
def test_every_png_flavour_converts_to_every_target(upload, output, rng, kind):
    grey = page(rng)
    rgb = np.stack([grey, grey // 2, grey // 3], axis=2)
    source = {
        "onebit": grey > 128,
        "greyscale": grey,
        "grey16": grey.astype(np.uint16) * 257,
        "rgb": rgb,
        "rgba": np.concatenate([rgb, np.full((40, 60, 1), 255, np.uint8)], axis=2),
    }[kind]
    entry = upload(source)
    assert entry["resource_type"] == PNG_TYPES[kind]
    for job, port, target, mode in [
        (ToRgbPng, "RGB PNG image", "image/rgb+png", "RGB"),
        (ToGreyscalePng, "Greyscale PNG image", "image/greyscale+png", "L"),
        (ToOnebitPng, "One-bit PNG image", "image/onebit+png", "1"),
    ]:
        result = output(target)
        job().run_my_task({"Image": [entry]}, {}, {port: [result]})
        pixels, found = written(result)
        assert found == target, (kind, job.name)
        with Image.open(result["resource_path"]) as image:
            assert image.mode == mode and image.size == (60, 40)
        if target == "image/onebit+png":
            assert not pixels[10:13, 5:55].any() and pixels[0:8].mean() > 0.95  # ink black, paper white
        elif target == "image/greyscale+png" and kind in ("greyscale", "grey16"):
            assert np.array_equal(pixels, grey)
        elif target == "image/rgb+png" and kind in ("rgb", "rgba"):
            assert np.array_equal(pixels, rgb)


def test_greyscale_conversion_of_16_bit_keeps_the_values(upload, output, rng):
    grey = page(rng)
    entry = upload(grey.astype(np.uint16) * 257)
    result = output("image/greyscale+png")
    ToGreyscalePng().run_my_task({"Image": [entry]}, {}, {"Greyscale PNG image": [result]})
    assert np.array_equal(written(result)[0], grey)


def test_colour_conversion_uses_luma_and_rgb_repeats_grey(upload, output, rng):
    rgb = colour_page(rng)
    grey_out, rgb_out = output("image/greyscale+png"), output("image/rgb+png")
    ToGreyscalePng().run_my_task({"Image": [upload(rgb)]}, {}, {"Greyscale PNG image": [grey_out]})
    assert np.array_equal(written(grey_out)[0], np.asarray(Image.fromarray(rgb).convert("L")))
    grey = page(rng)
    ToRgbPng().run_my_task({"Image": [upload(grey)]}, {}, {"RGB PNG image": [rgb_out]})
    assert np.array_equal(written(rgb_out)[0], np.repeat(grey[..., None], 3, axis=2))


def test_jpeg_and_tiff_inputs(upload, output, rng):
    rgb = colour_page(rng)
    for entry in [upload(rgb, "JPEG", quality=95), upload(rgb, "TIFF", compression="tiff_lzw")]:
        result = output("image/onebit+png")
        ToOnebitPng().run_my_task({"Image": [entry]}, {}, {"One-bit PNG image": [result]})
        pixels, found = written(result)
        assert found == "image/onebit+png"
        assert not pixels[10:13, 5:55].any() and pixels[0:8].mean() > 0.95


def test_transparent_areas_become_white(upload, output):
    rgba = np.zeros((4, 4, 4), np.uint8)  # black, but fully transparent...
    rgba[0, 0] = (0, 0, 0, 255)  # ...except one opaque black pixel
    result = output("image/rgb+png")
    ToRgbPng().run_my_task({"Image": [upload(rgba)]}, {}, {"RGB PNG image": [result]})
    pixels = written(result)[0]
    assert pixels[0, 0].tolist() == [0, 0, 0] and (pixels.reshape(-1, 3)[1:] == 255).all()


def test_every_output_entry_gets_the_result(upload, output, rng):
    entries = [output("image/greyscale+png"), output("image/greyscale+png")]
    ToGreyscalePng().run_my_task({"Image": [upload(colour_page(rng))]}, {}, {"Greyscale PNG image": entries})
    first, second = (written(entry)[0] for entry in entries)
    assert np.array_equal(first, second)


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (17, 1)])
def test_tiny_images(upload, output, shape):
    grey = np.arange(shape[0] * shape[1], dtype=np.uint8).reshape(shape) * 10
    result = output("image/rgb+png")
    ToRgbPng().run_my_task({"Image": [upload(grey)]}, {}, {"RGB PNG image": [result]})
    assert written(result)[0].shape == shape + (3,)
    onebit = output("image/onebit+png")
    ToOnebitPng().run_my_task({"Image": [upload(grey)]}, {}, {"One-bit PNG image": [onebit]})
    assert written(onebit)[0].shape == shape and written(onebit)[1] == "image/onebit+png"


def test_a_broken_input_fails_with_a_message_naming_the_resource(tmp_path, output):
    broken = tmp_path / "broken"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    entry = {"resource_path": str(broken), "resource_type": "image/rgb+png", "resource_name": "folio 3v.png"}
    result = output("image/rgb+png")
    with pytest.raises(ImageError, match=r"^folio 3v\.png is not an image we can read"):
        ToRgbPng().run_my_task({"Image": [entry]}, {}, {"RGB PNG image": [result]})
    assert not (tmp_path / result["resource_path"]).exists()


def test_an_oversized_input_is_refused_before_decoding(upload, output, monkeypatch):
    entry = upload(np.zeros((30, 40), np.uint8))
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageError, match=r"40×30 = 0\.0012 Mpx, above the limit"):
        ToRgbPng().run_my_task({"Image": [entry]}, {}, {"RGB PNG image": [output("image/rgb+png")]})


# -- Resize image -----------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({}, (50, 20)),  # defaults are not re-applied by Rodan: Scale 0.5
        ({"Scale": 0.5, "Width": 0, "Height": 0}, (50, 20)),
        ({"Scale": 2}, (200, 80)),
        ({"Scale": 0.001}, (1, 1)),  # never empty
        ({"Width": 30}, (30, 12)),  # aspect kept
        ({"Height": 10, "Scale": 3}, (25, 10)),  # a size wins over Scale
        ({"Width": 7, "Height": 300}, (7, 300)),
    ],
)
def test_target_size(settings, expected):
    assert target_size(100, 40, settings) == expected


def test_target_size_refuses_what_the_schema_would():
    with pytest.raises(ValueError, match="Scale must be above 0"):
        target_size(100, 40, {"Scale": 0})
    with pytest.raises(ValueError, match="must not be negative"):
        target_size(100, 40, {"Width": -5})


def run_resize(upload, output, array, settings, resource_type):
    result = output(resource_type)
    ResizeImage().run_my_task({"Image": [upload(array)]}, settings, {"Resized image": [result]})
    return written(result)


def test_resize_greyscale_is_pillows_lanczos(upload, output, rng):
    grey = page(rng)
    pixels, found = run_resize(upload, output, grey, {"Scale": 0.5}, "image/greyscale+png")
    assert found == "image/greyscale+png"
    expected = np.asarray(Image.fromarray(grey).resize((30, 20), Image.Resampling.LANCZOS))
    assert np.array_equal(pixels, expected)


def test_resize_onebit_stays_black_and_white_with_nearest(upload, output):
    onebit = np.zeros((4, 4), bool)
    onebit[:, 2:] = True
    pixels, found = run_resize(upload, output, onebit, {"Scale": 2}, "image/onebit+png")
    assert found == "image/onebit+png"
    assert np.array_equal(pixels, np.repeat(np.repeat(onebit, 2, axis=0), 2, axis=1))


def test_resize_grey16_keeps_sixteen_bits(upload, output):
    grey16 = np.full((10, 10), 40000, np.uint16)
    grey16[:, 5:] = 1234
    pixels, found = run_resize(upload, output, grey16, {"Width": 20}, "image/grey16+png")
    assert found == "image/grey16+png" and pixels.shape == (20, 20)
    assert pixels[0, 0] == 40000 and pixels[0, -1] == 1234  # no 8-bit rounding, no clipping


def test_resize_rgba_keeps_alpha_without_colour_bleeding(upload, output):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, :4] = (255, 0, 0, 255)  # opaque red beside transparent black
    pixels, found = run_resize(upload, output, rgba, {"Scale": 0.5}, "image/rgba+png")
    assert found == "image/rgba+png" and pixels.shape == (4, 4, 4)
    visible = pixels[pixels[..., 3] > 0]
    assert (visible[:, 0] >= 250).all() and (visible[:, 1:3] <= 5).all()  # red stays red near the edge


def test_resize_writes_the_type_of_the_output_entry(upload, output, rng):
    rgb = colour_page(rng)
    pixels, found = run_resize(upload, output, rgb, {"Scale": 1}, "image/greyscale+png")
    assert found == "image/greyscale+png"
    assert np.array_equal(pixels, np.asarray(Image.fromarray(rgb).convert("L")))
    pixels, found = run_resize(upload, output, rgb, {"Scale": 1}, "image/png")  # plain png: keep the flavour
    assert found == "image/rgb+png" and np.array_equal(pixels, rgb)


def test_resize_refuses_a_result_above_the_pixel_limit(upload, output, monkeypatch):
    entry = upload(np.zeros((10, 10), np.uint8))
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "1000")
    result = output("image/greyscale+png")
    with pytest.raises(ImageError, match=r"image is 80×80 = 0\.0064 Mpx, above the limit"):
        ResizeImage().run_my_task({"Image": [entry]}, {"Scale": 8}, {"Resized image": [result]})


# -- To TIFF ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", PNG_TYPES)
def test_to_tiff_keeps_the_pixels(upload, output, rng, kind):
    array = {
        "onebit": page(rng) > 128,
        "greyscale": page(rng),
        "grey16": rng.integers(0, 65536, (40, 60), dtype=np.uint16),
        "rgb": colour_page(rng),
        "rgba": rng.integers(0, 256, (40, 60, 4), dtype=np.uint8),
    }[kind]
    result = output("image/tiff")
    ToTiff().run_my_task({"Image": [upload(array)]}, {}, {"TIFF image": [result]})
    pixels, found = written(result)
    assert found == "image/tiff" and np.array_equal(pixels, array)


# -- Rodan's self-test hook ------------------------------------------------------


class RodanTestCase(unittest.TestCase):
    """The part of Rodan's test case that ``test_my_task`` uses: assertions and fresh paths."""

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def runTest(self):  # noqa: N802 - unittest's name
        """Unused: the instance only lends its assertions."""

    def new_available_path(self):
        return str(self.directory / uuid.uuid4().hex)


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_each_jobs_own_self_test_passes(tmp_path, job):
    job().test_my_task(RodanTestCase(tmp_path))
