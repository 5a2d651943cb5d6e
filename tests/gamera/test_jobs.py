"""The Gamera jobs as the worker calls them: catalogue shape, both engines, bad input.

The catalogue table below is rodan-compat.md §7.1 written out; every job must
declare exactly those names, categories, ports and settings.
"""

import sys
import uuid

import jsonschema
import numpy as np
import pytest
from gamera_pages import pages
from PIL import Image

from rodan.jobs.gamera import binarization, classification, conversion, engine, masking, morphology, skew, threshold
from rodan.identify import identify
from rodan.imaging import ImageError, load_image, save_png
from rodan.jobs.base import RodanTask

OB, GR, G16, RGB, GX = "image/onebit+png", "image/greyscale+png", "image/grey16+png", "image/rgb+png", "application/gamera+xml"
P = [RGB, OB, GR, G16]
G = [("Greyscale PNG image", [GR], 1, 1)]
O = [("Onebit PNG image", [OB], 1, 2)]
SF = ["Storage format"]

# name: (category, inputs, outputs, title or None for "queue only", property names)
CATALOGUE = {
    "Gatos Background": (
        "Binarization",
        [("Onebit PNG - preliminary binarization of the image", [OB], 1, 1), ("Greyscale PNG - source image to binarize", [GR], 1, 1)],
        [("Greyscale PNG - background estimation image", [GR], 1, 2)],
        "Gatos background settings", ["Region size"],
    ),
    "Gatos Threshold": (
        "Binarization",
        [
            ("Onebit PNG - preliminary binarization of the image", [OB], 1, 1),
            ("Greyscale PNG - estimated background of the image", [GR], 1, 1),
            ("Greyscale PNG - source image to binarize", [GR], 1, 1),
        ],
        O, "Gatos threshold settings", ["q", "p1", "p2"],
    ),
    "Brink Threshold": ("Binarization", G, O, None, []),
    "Sauvola Threshold": (
        "Binarization", G, O, "Sauvola threshold settings",
        ["Region size", "Sensitivity", "Dynamic range", "Lower bound", "Upper bound"],
    ),
    "Niblack Threshold": (
        "Binarization", G, O, "Niblack threshold settings", ["Region size", "Sensitivity", "Lower bound", "Upper bound"],
    ),
    # Beyond Rodan's catalogue, in its style.
    "White-Rohrer Threshold": (
        "Binarization", G, O, "White-Rohrer threshold settings",
        ["X lookahead", "Y lookahead", "Bias mode", "Bias factor", "F factor", "G factor"],
    ),
    "Otsu Threshold": ("Threshold", G, O, "Otsu threshold settings", SF),
    "Tsai Moment Preserving Threshold": ("Threshold", G, O, "Tsai Moment Preserving Threshold", SF),
    "Abutaleb locally-adaptive threshold": ("Threshold", G, O, "Abutaleb locally-adaptive threshold", SF),
    "Bernsen threshold": (
        "Threshold", G, O, "Bernsen threshold", SF + ["Region size", "Contrast limit", "Doubt to black"],
    ),
    "DjVu threshold": (
        "Threshold", [("RGB PNG image", [RGB], 1, 1)], O, "DjVu threshold",
        ["Smoothness", "Maximum block size", "Minimum block size", "Block factor"],
    ),
    "Convert to RGB PNG": ("Image Conversion", [("PNG image", P, 1, 1)], [("RGB PNG image", [RGB], 1, 2)], None, []),
    "Convert to greyscale PNG": (
        "Image Conversion", [("PNG image", P, 1, 1)], [("Greyscale PNG image", [GR], 1, 2)], None, [],
    ),
    "Convert to greyscale 16 PNG": (
        "Image Conversion", [("PNG image", P, 1, 1)], [("Greyscale 16 PNG image", [G16], 1, 2)], None, [],
    ),
    "Convert to one-bit (black and white) PNG": (
        "Image Conversion", [("PNG image", P, 1, 1)], [("One-bit PNG image", [OB], 1, 2)], None, [],
    ),
    "Invert": ("Image Utilities", [("PNG image", P, 1, 1)], [("PNG image", P, 1, 2)], None, []),
    # Beyond Rodan's catalogue, in its style.
    "Correct Skew": (
        "Image Utilities", [("PNG image", P, 1, 1)],
        [("PNG image", P, 1, 2), ("Skew angle (JSON)", ["application/json"], 0, 1)],
        "Skew correction settings", ["Minimum angle", "Maximum angle", "Accuracy"],
    ),
    "Despeckle": (
        "Morphology", [("Onebit PNG image", [OB], 1, 1)], [("Onebit PNG despeckled image", [OB], 1, 2)],
        "Despeckle settings", ["Connected component size"],
    ),
    "Dilate": (
        "Morphology", [("Onebit PNG image", [OB], 1, 1)], [("Onebit PNG dilated image", [OB], 1, 2)],
        "Despeckle settings", [],
    ),
    "CC Analysis": (
        "Classification", [("1-Bit PNG Image", [OB], 1, 1)], [("GameraXML - Connected Components", [GX], 1, 1)], None, [],
    ),
    "Non-Interactive Classifier": (
        "Classification",
        [
            ("GameraXML - Connected Components", [GX], 1, 1),
            ("GameraXML - Training Data", [GX], 1, 1),
            ("GameraXML - Feature Selection", [GX], 0, 1),
        ],
        [("GameraXML - Classified Glyphs", [GX], 1, 2)], "Bounding box size", ["Bounding box size"],
    ),
    "Mask (logical 'and')": (
        "Masking", [("Source image", [OB], 1, 1), ("Mask image", [OB], 1, 1)],
        [("Source image with mask applied", [OB], 1, 2)], None, [],
    ),
    "Mask (logical 'xor')": (
        "Masking", [("Source image", [OB], 1, 1), ("Mask image", [OB], 1, 1)],
        [("Source image with mask applied", [OB], 1, 2)], None, [],
    ),
}

MODULES = [binarization, threshold, conversion, morphology, classification, masking, skew]
JOBS = {
    cls.name: cls
    for module in MODULES
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, RodanTask) and cls.name
}


def test_every_catalogue_job_exists_and_nothing_else():
    assert sorted(JOBS) == sorted(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_job_declares_the_catalogue_shape(name):
    job = JOBS[name]
    category, inputs, outputs, title, properties = CATALOGUE[name]
    assert job.category == category and job.enabled and not job.interactive
    for declared, expected in ((job.input_port_types, inputs), (job.output_port_types, outputs)):
        got = [(p["name"], sorted(p["resource_types"]), p["minimum"], p["maximum"]) for p in declared]
        assert got == [(n, sorted(t), lo, hi) for n, t, lo, hi in expected]
    assert job.settings["job_queue"] == "Python3"
    if title is None:
        assert job.settings == {"job_queue": "Python3"}
    else:
        assert job.settings["title"] == title and job.settings["type"] == "object"
        assert list(job.settings.get("properties", {})) == properties
        jsonschema.Draft4Validator.check_schema(job.settings)


def test_setting_defaults_and_enums_are_rodans():
    sauvola = JOBS["Sauvola Threshold"].settings["properties"]
    assert [sauvola[k]["default"] for k in sauvola] == [15, 0.5, 128, 20, 150]
    assert (sauvola["Dynamic range"]["minimum"], sauvola["Dynamic range"]["maximum"]) == (1, 255)
    assert JOBS["Niblack Threshold"].settings["properties"]["Sensitivity"]["default"] == -0.2
    bernsen = JOBS["Bernsen threshold"].settings["properties"]
    assert bernsen["Storage format"]["enum"] == ["Dense (no compression)", "RLE (run-length encoding compression)"]
    assert bernsen["Storage format"]["default"] == "Dense (no compression)"
    assert [(bernsen[k].get("minimum"), bernsen[k].get("maximum"), bernsen[k]["default"]) for k in
            ("Region size", "Contrast limit", "Doubt to black")] == [(1, 50, 11), (0, 255, 80), (None, None, False)]
    djvu = JOBS["DjVu threshold"].settings["properties"]
    assert [djvu[k]["default"] for k in djvu] == [0.2, 512, 64, 2]
    gatos = JOBS["Gatos Threshold"].settings["properties"]
    assert [gatos[k]["default"] for k in ("q", "p1", "p2")] == [0.6, 0.5, 0.8]
    assert JOBS["Despeckle"].settings["properties"]["Connected component size"]["minimum"] == 1


# -- running jobs -------------------------------------------------------------


@pytest.fixture
def page(tmp_path):
    """The corpus page as greyscale, RGB and a one-bit preliminary binarization, written as PNG inputs."""
    grey = pages()[-1][1]

    def entry(array, mimetype, name):
        path = tmp_path / f"in-{name}"
        save_png(array, str(path), mimetype)
        return [{"resource_path": str(path), "resource_type": mimetype, "resource_name": name}]

    return {
        "grey": entry(grey, GR, "grey"),
        "rgb": entry(np.stack([grey, grey // 2, grey], axis=2), RGB, "rgb"),
        "onebit": entry(grey > 128, OB, "onebit"),
        "onebit2": entry(grey > 100, OB, "onebit2"),
        "grey16": entry(grey.astype(np.uint16) * 200, G16, "grey16"),
        "background": entry(np.maximum(grey, 180), GR, "background"),
    }


def run_job(name, inputs, tmp_path, settings=None, output_type=None):
    """Run job ``name`` with two entries on its first output port; return the arrays (or texts) written."""
    job = JOBS[name]()
    port = job.output_port_types[0]
    mimetype = output_type or port["resource_types"][0]
    paths = [str(tmp_path / f"out-{uuid.uuid4().hex}") for _ in range(port["maximum"])]
    outputs = {port["name"]: [{"resource_path": p, "resource_type": mimetype} for p in paths]}
    job.run_my_task(inputs, settings or {}, outputs)
    if mimetype == GX:
        return [open(p).read() for p in paths]
    for path in paths:
        assert identify(path) == mimetype
    return [load_image(p) for p in paths]


def inputs_for(name, page):
    ports = [p["name"] for p in JOBS[name].input_port_types if p["minimum"]]
    pick = {
        "Onebit PNG - preliminary binarization of the image": "onebit",
        "Greyscale PNG - estimated background of the image": "background",
        "Source image": "onebit",
        "Mask image": "onebit2",
        "RGB PNG image": "rgb",
        "PNG image": "rgb",
        "Onebit PNG image": "onebit",
        "1-Bit PNG Image": "onebit",
    }
    return {port: page[pick.get(port, "grey")] for port in ports}


IMAGE_JOBS = sorted(n for n in CATALOGUE if n != "Non-Interactive Classifier")


@pytest.mark.parametrize("name", IMAGE_JOBS)
def test_both_engines_write_the_same_result_to_every_output(name, page, tmp_path, monkeypatch):
    inputs = inputs_for(name, page)
    monkeypatch.setenv(engine.ENGINE_ENV, "fast")
    ours = run_job(name, inputs, tmp_path)
    monkeypatch.setenv(engine.ENGINE_ENV, "gamera")
    theirs = run_job(name, inputs, tmp_path)
    for result in ours + theirs:
        if isinstance(result, str):
            assert result == theirs[0] and "<gamera-database" in result and "<glyph " in result
        else:
            assert np.array_equal(result, theirs[0])


@pytest.mark.parametrize("source", ["rgb", "grey", "grey16", "onebit"])
@pytest.mark.parametrize("name", ["Invert", "Convert to greyscale PNG", "Convert to RGB PNG", "Convert to one-bit (black and white) PNG"])
def test_any_png_jobs_accept_every_flavour(name, source, page, tmp_path):
    results = run_job(name, {"PNG image": page[source]}, tmp_path, output_type=None if name != "Invert" else {
        "rgb": RGB, "grey": GR, "grey16": G16, "onebit": OB}[source])
    assert results[0].shape[:2] == (160, 224)


def test_invert_keeps_grey16(page, tmp_path):
    (result, _) = run_job("Invert", {"PNG image": page["grey16"]}, tmp_path, output_type=G16)
    assert result.dtype == np.uint16


def test_non_interactive_classifier_classifies_cc_analysis_glyphs(page, tmp_path):
    (ccs,) = run_job("CC Analysis", {"1-Bit PNG Image": page["onebit"]}, tmp_path)
    ccs_path = tmp_path / "ccs.xml"
    ccs_path.write_text(ccs)
    training = tmp_path / "training"  # the same glyphs, all named, as a training set
    named = '<ids state="MANUAL">\n        <id name="neume" confidence="1.000000"/>'
    training.write_text(ccs.replace('<ids state="UNCLASSIFIED">', named))
    inputs = {
        "GameraXML - Connected Components": [{"resource_path": str(ccs_path), "resource_type": GX}],
        "GameraXML - Training Data": [{"resource_path": str(training), "resource_type": GX}],
    }
    outputs = run_job("Non-Interactive Classifier", inputs, tmp_path, settings={"Bounding box size": 4})
    assert outputs[0] == outputs[1] and 'name="neume"' in outputs[0]


# -- bad input ------------------------------------------------------------------


def test_rgb_page_on_a_greyscale_port_is_a_clear_error(page, tmp_path):
    with pytest.raises(ImageError, match="Greyscale PNG image .*expected an 8-bit greyscale image, got an RGB colour image"):
        run_job("Sauvola Threshold", {"Greyscale PNG image": page["rgb"]}, tmp_path)


@pytest.mark.parametrize("chosen", ["fast", "gamera"])
def test_image_smaller_than_the_region_is_a_clear_error_on_both_engines(chosen, tmp_path, monkeypatch):
    monkeypatch.setenv(engine.ENGINE_ENV, chosen)
    path = tmp_path / "tiny"
    save_png(np.array([[90]], np.uint8), str(path), GR)
    with pytest.raises(ImageError, match=r"region size 15 is out of range for a 1×1 image"):
        run_job("Sauvola Threshold", {"Greyscale PNG image": [{"resource_path": str(path), "resource_type": GR}]}, tmp_path)


def test_one_pixel_image_with_a_fitting_region_works(tmp_path):
    path = tmp_path / "tiny"
    save_png(np.array([[90]], np.uint8), str(path), GR)
    (result, _) = run_job(
        "Niblack Threshold", {"Greyscale PNG image": [{"resource_path": str(path), "resource_type": GR}]}, tmp_path,
        settings={"Region size": 1},
    )
    assert result.shape == (1, 1)


def test_image_over_the_pixel_limit_is_refused_before_decoding(page, tmp_path, monkeypatch):
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageError, match="above the limit"):
        run_job("Despeckle", {"Onebit PNG image": page["onebit"]}, tmp_path)


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        run_job("Otsu Threshold", {"Greyscale PNG image": [{"resource_path": str(path), "resource_type": GR}]}, tmp_path)


def test_masks_of_different_sizes_are_a_clear_error(page, tmp_path):
    small = tmp_path / "small"
    Image.new("1", (5, 5), 1).save(small, format="PNG")
    inputs = {"Source image": page["onebit"], "Mask image": [{"resource_path": str(small), "resource_type": OB}]}
    with pytest.raises(ImageError, match="same size, got 224×160, 5×5"):
        run_job("Mask (logical 'and')", inputs, tmp_path)


def test_unknown_engine_is_a_clear_error(page, tmp_path, monkeypatch):
    monkeypatch.setenv(engine.ENGINE_ENV, "turbo")
    with pytest.raises(ValueError, match="RODAN_GAMERA_ENGINE must be one of fast, gamera"):
        run_job("Sauvola Threshold", {"Greyscale PNG image": page["grey"]}, tmp_path)


def test_without_gamera_fast_jobs_run_and_gamera_jobs_say_why(page, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gamera", None)  # makes `import gamera` fail
    engine.gamera_core.cache_clear()
    try:
        run_job("Sauvola Threshold", {"Greyscale PNG image": page["grey"]}, tmp_path)
        with pytest.raises(engine.GameraUnavailable, match="needs Gamera 4, which is not installed"):
            run_job("DjVu threshold", {"RGB PNG image": page["rgb"]}, tmp_path)
    finally:
        engine.gamera_core.cache_clear()
