"""Pixel_js through a real worker: wait, acquire, bad submissions refused, edits submitted, outputs checked.

Expected masks are computed here from the same coordinates with plain
slicing (rectangles, axis-aligned polygons, one-pixel brush lines), never
with the job's own rasteriser.
"""

import base64
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests
from builders import graph_document, make_project, upload, valid_workflow, wait_for, wait_run
from PIL import Image

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.jobs.registry import get_registry
from rodan.models import InputPort, RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

JSON = {"Accept": "application/json"}
W, H = 64, 48
SETTINGS = {"title": "Options", "type": "object", "properties": {"Output Mask": {"type": "boolean", "default": False}},
            "job_queue": "Python3"}


def _page(path):
    rng = np.random.default_rng(3)
    pixels = rng.integers(1, 255, (H, W, 3), dtype=np.uint8)  # no pixel is fully black: cut-outs are visible
    Image.fromarray(pixels).save(path)
    return pixels


def _start(project, start_worker, tmp_path, settings=None, layer_inputs=(), outputs=()):
    """A run of Pixel_js on an RGB page (and layer PNGs), waiting for input; (run, run_job, page pixels)."""
    feeds = {"Image": None, **{f"PNG - Layer {n} Input": None for n, _ in layer_inputs}}
    doc = graph_document({"pixel": ("Pixel_js", settings or {}, feeds, list(outputs))})
    workflow = valid_workflow(project, doc)
    pixels = _page(tmp_path / "page.png")
    assignments = {}
    for port in InputPort.objects.filter(workflow_job__workflow=workflow, extern=True):
        if port.input_port_type.name == "Image":
            assignments[port] = [upload(project, tmp_path / "page.png", "folio", "image/rgb+png")]
        else:
            n = int(port.input_port_type.name.split()[3])
            path = tmp_path / f"layer{n}.png"
            Image.fromarray(dict(layer_inputs)[n]).save(path)
            assignments[port] = [upload(project, path, f"layer {n}", "image/rgba+png")]
    start_worker()
    run = create_run(workflow, assignments)
    run_job = wait_for(
        lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
        what="Pixel to wait for input",
    )
    return run, run_job, pixels


def _acquire(live_server, run_job, user):
    response = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(user.email, "pw"),
                             headers=JSON, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["working_url"]


def _outputs(run):
    """{output port name: file bytes} of the Pixel RunJob."""
    run_job = RunJob.objects.get(workflow_run=run)
    return {o.output_port_type_name: Path(storage.absolute_path(o.resource)).read_bytes()
            for o in run_job.outputs.select_related("resource")}


def _rgba(data):
    return np.array(Image.open(io.BytesIO(data)).convert("RGBA"))


def _cut(pixels, mask):
    expected = np.zeros((H, W, 4), np.uint8)
    expected[mask] = np.concatenate([pixels, np.full((H, W, 1), 255, np.uint8)], axis=2)[mask]
    return expected


def test_contract_matches_rodan():
    job = get_registry().jobs["Pixel_js"]
    assert (job.name, job.category, job.interactive, job.settings) == ("Pixel_js", "Diva - Pixel.js", True, SETTINGS)
    inputs = [(p["name"], p["minimum"], p["maximum"]) for p in job.input_port_types]
    assert inputs == [("Image", 1, 1)] + [(f"PNG - Layer {n} Input", 0, 1) for n in range(1, 8)]
    assert job.input_port_types[0]["resource_types"]("image/rgb+jpg")
    outputs = {p["name"]: (p["minimum"], p["maximum"], p["resource_types"]) for p in job.output_port_types}
    assert outputs.pop("ZIP") == (1, 1, ["application/zip"])
    assert outputs == {name: (0, 1, ["image/rgba+png"]) for name in
                       [f"PNG - Layer {n} Output" for n in range(1, 8)] + ["Background", "Region"]}


BAD = [
    ({"layers": 2}, "operations"),
    ("not an object", "operations"),
    ({"layers": 0, "operations": []}, "from 1 to 7"),
    ({"layers": 8, "operations": []}, "from 1 to 7"),
    ({"layers": 2, "operations": {}}, "must be a list"),
    ({"layers": 2, "operations": [5]}, "Edit 1 is not an object"),
    ({"layers": 2, "operations": [{"layer": 3, "tool": "rect", "points": [0, 0, 1, 1]}]}, "names layer 3"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "spray", "points": [0, 0]}]}, "the tools are"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "rect", "points": [0, 0, 1]}]}, "whole numbers"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "rect", "points": [0, 0, 1.5, 2]}]}, "whole numbers"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "poly", "points": [0, 0, 1, 1]}]}, "at least 3 points"),
    ({"layers": 2, "operations": [{"layer": "region", "tool": "rect", "points": [0, 0, W + 1, 2]}]},
     f"outside the page, which is {W} x {H}"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "brush", "size": 0, "points": [1, 1]}]}, "brush size"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "rect", "points": [0, 0, 5, 5]}]}, "No region is selected"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "fill", "x": 3, "y": 3, "tolerance": 256}]}, '"tolerance"'),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "fill", "x": W, "y": 3, "tolerance": 9}]}, "a fill needs"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "paste", "from_layer": 2, "rect": [5, 5, 5, 9], "dx": 0,
                                   "dy": 0}]}, "copied rectangle must lie inside the page"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "paste", "from_layer": 9, "rect": [0, 0, 5, 9], "dx": 0,
                                   "dy": 0}]}, "names from_layer 9"),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "paste", "from_layer": 2, "rect": [0, 0, 5, 9], "dx": 1.5,
                                   "dy": 0}]}, '"dx" and "dy" must be whole numbers'),
    ({"layers": 2, "operations": [{"layer": 1, "tool": "paste", "from_layer": 2, "rect": [0, 0, 5, 9], "dx": 0,
                                   "dy": 0, "at": 1}]}, '"at" must be a whole number of earlier edits, from 0 to 0'),
    ({"user_input": ["data:image/png;base64,AAAA"]}, "3 to 9 PNG data URLs"),
    ({"user_input": ["x", "y", "z"]}, "PNG data URL"),
]


def test_edits_become_layers_pixel_by_pixel(start_worker, live_server, tmp_path):
    project = make_project()
    outputs = ["PNG - Layer 1 Output", "PNG - Layer 2 Output", "PNG - Layer 3 Output", "Background", "Region"]
    run, run_job, pixels = _start(project, start_worker, tmp_path, outputs=outputs)
    url = _acquire(live_server, run_job, project.creator)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and 'id="pixel-config"' in page.text

    for body, sentence in BAD:
        response = requests.post(url, json=body, timeout=10)
        assert response.status_code == 400 and sentence in response.json()["detail"], (body, response.text)
    broken = requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert broken.status_code == 400
    run_job.refresh_from_db()
    assert run_job.status == RunJobStatus.WAITING_FOR_INPUT

    edits = [
        {"layer": "region", "tool": "rect", "points": [2, 2, 60, 44]},
        {"layer": 1, "tool": "rect", "points": [30, 5, 10, 20]},  # corners in any order
        {"layer": 1, "tool": "brush", "size": 1, "points": [0, 30, 50, 30]},
        {"layer": 1, "tool": "rect", "erase": True, "points": [12, 8, 16, 12]},
        {"layer": 2, "tool": "poly", "points": [40, 25, 55, 25, 55, 40, 40, 40]},
        {"layer": "region", "tool": "rect", "erase": True, "points": [58, 2, 60, 44]},
    ]
    assert requests.post(url, json={"layers": 2, "operations": edits}, timeout=10).status_code == 200
    wait_run(run, {RunStatus.FINISHED})

    region = np.zeros((H, W), bool)
    region[2:44, 2:58] = True
    layer1 = np.zeros((H, W), bool)
    layer1[5:20, 10:30] = True
    layer1[30, 0:51] = True
    layer1[8:12, 12:16] = False
    layer2 = np.zeros((H, W), bool)
    layer2[25:41, 40:56] = True
    files = _outputs(run)
    assert np.array_equal(_rgba(files["PNG - Layer 1 Output"]), _cut(pixels, layer1))
    assert np.array_equal(_rgba(files["PNG - Layer 2 Output"]), _cut(pixels, layer2))
    assert not _rgba(files["PNG - Layer 3 Output"]).any()  # connected beyond the 2 layers: empty
    assert np.array_equal(_rgba(files["Region"]), _cut(pixels, region))
    assert np.array_equal(_rgba(files["Background"]), _cut(pixels, region & ~layer1 & ~layer2))
    with zipfile.ZipFile(io.BytesIO(files["ZIP"])) as package:
        names = package.namelist()
        assert sorted(names) == sorted(["rgba PNG - Layer 0 (Background).png", "rgba PNG - Layer 1.png",
                                        "rgba PNG - Layer 2.png", "rgba PNG - Selected regions.png", "Image.png"])
        assert package.read("rgba PNG - Layer 2.png") == files["PNG - Layer 2 Output"]
        assert np.array_equal(np.array(Image.open(io.BytesIO(package.read("Image.png")))), pixels)
    run_job.refresh_from_db()
    assert run_job.job_settings["@operations"] == edits


def _data_url(rgba):
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_rodan_shape_with_output_mask_and_a_layer_input(start_worker, live_server, tmp_path):
    project = make_project()
    given = np.zeros((H, W, 4), np.uint8)
    given[0:10, 0:10] = (255, 0, 0, 255)
    run, run_job, _ = _start(project, start_worker, tmp_path, settings={"Output Mask": True},
                             layer_inputs=[(1, given)], outputs=["PNG - Layer 1 Output", "Region"])
    url = _acquire(live_server, run_job, project.creator)
    config = requests.get(url, timeout=10).text
    assert "PNG - Layer 1 Input" in config  # the page is told which layer input feeds layer 1
    served = requests.get(url + "inputs/PNG%20-%20Layer%201%20Input/file/", timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/rgba+png"
    assert np.array_equal(_rgba(served.content), given)
    assert requests.get(url + "inputs/Nothing/file/", timeout=10).status_code == 404
    tiles = wait_for(lambda: requests.get(url + "inputs/Image/tiles/", timeout=10).json().get("tileSource"),
                     what="the page's tiles")
    size = tiles["Image"]["Size"]
    assert (size["Width"], size["Height"]) == (str(W), str(H))
    top_tile = requests.get(url + "inputs/Image/tiles/files/6/0_0.png", timeout=10)  # 64 x 48: level 6 is full size
    assert top_tile.status_code == 200 and Image.open(io.BytesIO(top_tile.content)).size == (W, H)
    assert requests.get(url.replace(url.rstrip("/").rsplit("/", 1)[1], "0" * 32) + "inputs/Image/tiles/",
                        timeout=10).status_code == 401

    layer = np.zeros((H, W, 4), np.uint8)
    layer[5:15, 5:25] = (0, 0, 255, 255)
    region = np.zeros((H, W, 4), np.uint8)
    region[:, :] = (9, 9, 9, 255)
    background = np.zeros((H, W, 4), np.uint8)
    wrong_count = requests.post(url, json={"user_input": [_data_url(background)] * 4}, timeout=10)
    assert wrong_count.status_code == 400 and "exactly 1 layers" in wrong_count.json()["detail"]
    small = np.zeros((H - 1, W, 4), np.uint8)
    wrong_size = requests.post(url, json={"user_input": [_data_url(background), _data_url(small), _data_url(region)]},
                               timeout=10)
    assert wrong_size.status_code == 400 and f"{W} x {H - 1} pixels" in wrong_size.json()["detail"]
    body = json.dumps({"user_input": [_data_url(background), _data_url(layer), _data_url(region)]})
    accepted = requests.post(url, data={"__serialized__": body}, timeout=10)  # Rodan's form-encoded variant
    assert accepted.status_code == 200, accepted.text
    wait_run(run, {RunStatus.FINISHED})
    files = _outputs(run)
    assert np.array_equal(_rgba(files["PNG - Layer 1 Output"]), layer)  # Output Mask: the layer PNG itself
    assert np.array_equal(_rgba(files["Region"]), region)


def test_edits_over_a_layer_input_with_output_mask(start_worker, live_server, tmp_path):
    from rodan.jobs.pixel.pixel import BACKGROUND_COLOUR, LAYER_COLOURS, REGION_COLOUR

    project = make_project()
    given = np.zeros((H, W, 4), np.uint8)
    given[10:30, 10:40] = (0, 200, 0, 128)  # the input layer's opaque pixels start layer 1
    run, run_job, _ = _start(project, start_worker, tmp_path, settings={"Output Mask": True},
                             layer_inputs=[(1, given)], outputs=["PNG - Layer 1 Output", "Background", "Region"])
    url = _acquire(live_server, run_job, project.creator)
    one_layer = {"layers": 2, "operations": [{"layer": "region", "tool": "rect", "points": [0, 0, W, H]}]}
    refused = requests.post(url, json=one_layer, timeout=10)
    assert refused.status_code == 400 and "exactly 1 layers" in refused.json()["detail"]
    edits = [
        {"layer": "region", "tool": "rect", "points": [0, 0, W, 40]},
        {"layer": 1, "tool": "rect", "erase": True, "points": [10, 10, 20, 30]},
        {"layer": 1, "tool": "rect", "points": [50, 0, 60, 5]},
    ]
    assert requests.post(url, json={"layers": 1, "operations": edits}, timeout=10).status_code == 200
    wait_run(run, {RunStatus.FINISHED})
    layer = np.zeros((H, W), bool)
    layer[10:30, 20:40] = True
    layer[0:5, 50:60] = True
    region = np.zeros((H, W), bool)
    region[0:40, :] = True

    def painted(mask, colour):
        expected = np.zeros((H, W, 4), np.uint8)
        expected[mask] = (*colour, 255)
        return expected

    files = _outputs(run)
    assert np.array_equal(_rgba(files["PNG - Layer 1 Output"]), painted(layer, LAYER_COLOURS[0]))
    assert np.array_equal(_rgba(files["Region"]), painted(region, REGION_COLOUR))
    assert np.array_equal(_rgba(files["Background"]), painted(region & ~layer, BACKGROUND_COLOUR))


def test_a_layer_input_of_another_size_is_refused_with_a_sentence(start_worker, live_server, tmp_path):
    project = make_project()
    run, run_job, _ = _start(project, start_worker, tmp_path, layer_inputs=[(1, np.zeros((H + 1, W, 4), np.uint8))])
    url = _acquire(live_server, run_job, project.creator)
    edits = [{"layer": "region", "tool": "rect", "points": [0, 0, W, H]}]
    response = requests.post(url, json={"layers": 1, "operations": edits}, timeout=10)
    assert response.status_code == 400
    assert f"PNG - Layer 1 Input is {W} x {H + 1} pixels but the page is {W} x {H}" in response.json()["detail"]
    run_job.refresh_from_db()
    assert run_job.status == RunJobStatus.WAITING_FOR_INPUT


def _luma(pixels):
    """The fill's greyscale, written out here from the rule in operations.py's docstring."""
    r, g, b = (pixels[..., i].astype(np.int64) for i in range(3))
    return (299 * r + 587 * g + 114 * b + 500) // 1000


def _flood(grey, x, y, tolerance):
    """The 4-connected pixels around (x, y) within ``tolerance`` of its value (SciPy's labelling, not OpenCV)."""
    from scipy import ndimage

    near = np.abs(grey - grey[y, x]) <= tolerance
    labels, _ = ndimage.label(near, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    return labels == labels[y, x]


def test_fill_copy_cut_and_paste_pixel_by_pixel(start_worker, live_server, tmp_path):
    project = make_project()
    outputs = ["PNG - Layer 1 Output", "PNG - Layer 2 Output", "PNG - Layer 3 Output"]
    run, run_job, pixels = _start(project, start_worker, tmp_path, outputs=outputs)
    url = _acquire(live_server, run_job, project.creator)
    edits = [
        {"layer": "region", "tool": "rect", "points": [0, 0, W, H]},
        {"layer": 1, "tool": "fill", "x": 20, "y": 20, "tolerance": 90},
        {"layer": 1, "tool": "fill", "x": 20, "y": 20, "tolerance": 10, "erase": True},
        {"layer": 2, "tool": "rect", "points": [5, 5, 25, 15]},
        # copy layer 2's [0, 0, 20, 10] onto layer 3, 30 pixels right and down
        {"layer": 3, "tool": "paste", "from_layer": 2, "rect": [0, 0, 20, 10], "dx": 30, "dy": 30, "at": 4},
        # a cut of [10, 5, 20, 15] on layer 2: the erase, then its paste on layer 3 as it was before the erase
        {"layer": 2, "tool": "rect", "erase": True, "points": [10, 5, 20, 15]},
        {"layer": 3, "tool": "paste", "from_layer": 2, "rect": [10, 5, 20, 15], "dx": 40, "dy": -5, "at": 5},
        # without "at": layer 3 as it is now (itself made of pastes), moved back left onto layer 1
        {"layer": 1, "tool": "paste", "from_layer": 3, "rect": [30, 30, W, H], "dx": -30, "dy": 0},
        # partly off the page: what falls outside is dropped
        {"layer": 3, "tool": "paste", "from_layer": 2, "rect": [0, 0, 30, 20], "dx": 50, "dy": 40},
    ]
    response = requests.post(url, json={"layers": 3, "operations": edits}, timeout=10)
    assert response.status_code == 200, response.text
    wait_run(run, {RunStatus.FINISHED})

    grey = _luma(pixels)
    filled = _flood(grey, 20, 20, 90)
    erased = _flood(grey, 20, 20, 10)
    assert 10 < filled.sum() < W * H and erased.sum() < filled.sum()  # a real region, not a pixel or the page
    layer1 = filled & ~erased
    layer1[35:40, 5:20] = True
    layer2 = np.zeros((H, W), bool)
    layer2[5:15, 5:25] = True
    layer2[5:15, 10:20] = False
    layer3 = np.zeros((H, W), bool)
    layer3[35:40, 35:50] = True
    layer3[0:10, 50:60] = True
    layer3[45:48, 55:60] = True
    files = _outputs(run)
    assert np.array_equal(_rgba(files["PNG - Layer 1 Output"]), _cut(pixels, layer1))
    assert np.array_equal(_rgba(files["PNG - Layer 2 Output"]), _cut(pixels, layer2))
    assert np.array_equal(_rgba(files["PNG - Layer 3 Output"]), _cut(pixels, layer3))
