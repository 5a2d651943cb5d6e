"""Pixel's fill and copy/cut/paste in a real browser (Debian chromium) on a real run.

The user fills a dark block of the page on layer 1 (then Alt-clicks a fill
that erases), draws a rectangle on layer 2, cuts part of it and pastes it on
layer 1, copies part of layer 1 and pastes it on layer 2 where the selection
was dragged to; the edits are saved as compact fill and paste operations,
come back after a reload, and the submitted outputs hold the page's pixels exactly where expected. Expected
masks are computed here: the fills with SciPy's 4-connected labelling of the
luma rule, the rest by slicing.
"""

import io
import os
from pathlib import Path

import numpy as np
import pytest
import requests
from builders import graph_document, make_project, upload, valid_workflow, wait_for, wait_run
from PIL import Image
from scipy import ndimage

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.models import InputPort, RunJob
from rodan.models.status import RunJobStatus, RunStatus
from browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.engine

BUILT = Path(__file__).resolve().parents[2] / "jobs" / "pixel" / "static" / "build" / "pixel.js"
W, H = 900, 600
JSON = {"Accept": "application/json"}


def _window(page, x, y):
    return page.evaluate("([x, y]) => window.pixel.toWindow(x, y)", [x + 0.5, y + 0.5])


def _drag(page, start, end):
    a, b = _window(page, *start), _window(page, *end)
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    page.mouse.move(b["x"], b["y"], steps=5)
    page.mouse.up()


def _click(page, x, y, alt=False):
    where = _window(page, x, y)
    if alt:
        page.keyboard.down("Alt")
    page.mouse.click(where["x"], where["y"])
    if alt:
        page.keyboard.up("Alt")


def _overlay(page, x, y):
    """The layers' overlay as drawn at page pixel (x, y): [r, g, b, a] of its canvas."""
    return page.evaluate("""([x, y]) => {
        const canvas = document.querySelector('.pixel-overlay');
        const box = canvas.getBoundingClientRect();
        const at = window.pixel.toWindow(x, y);
        const ratio = canvas.width / box.width;
        return Array.from(canvas.getContext('2d').getImageData(
            Math.floor((at.x - box.left) * ratio), Math.floor((at.y - box.top) * ratio), 1, 1).data);
    }""", [x + 0.5, y + 0.5])


def _layer1_shown(page, x, y):
    """Whether layer 1's red shows there over the grey of the selected region (the preview draws it)."""
    r, g, _, _ = _overlay(page, x, y)
    return r > g + 60


def _luma(pixels):
    r, g, b = (pixels[..., i].astype(np.int64) for i in range(3))
    return (299 * r + 587 * g + 114 * b + 500) // 1000


def _flood(grey, x, y, tolerance):
    near = np.abs(grey - grey[y, x]) <= tolerance
    labels, _ = ndimage.label(near, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    return labels == labels[y, x]


def _box(mask, rect):
    x0, y0, x1, y1 = rect
    out = np.zeros_like(mask)
    out[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    return out


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Pixel's page is not built (make frontend)")
def test_fill_cut_copy_paste_submitted_pixel_by_pixel(start_worker, live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    project = make_project()
    doc = graph_document({"pixel": ("Pixel_js", {}, {"Image": None}, ["PNG - Layer 1 Output", "PNG - Layer 2 Output"])})
    workflow = valid_workflow(project, doc)
    rng = np.random.default_rng(5)
    pixels = rng.integers(190, 256, (H, W, 3), dtype=np.uint8)  # a light page
    pixels[100:220, 100:320] = rng.integers(0, 50, (120, 220, 3), dtype=np.uint8)  # a dark block to fill
    Image.fromarray(pixels).save(tmp_path / "folio.png")
    resource = upload(project, tmp_path / "folio.png", "folio", "image/rgb+png")
    start_worker()
    run = create_run(workflow, {InputPort.objects.get(workflow_job__workflow=workflow, extern=True): [resource]})
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       what="Pixel to wait")
    url = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(project.creator.email, "pw"),
                        headers=JSON, timeout=10).json()["working_url"]
    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("body[data-pixel=ready]", timeout=60_000)
        page.wait_for_function("window.pixel.fillsReady()", timeout=30_000)

        page.keyboard.press("a")
        page.keyboard.press("1")
        page.keyboard.press("w")
        tolerance = page.locator("#pixel-tolerance")
        tolerance.fill("300")
        tolerance.press("Tab")
        assert "whole number from 0 to 255" in page.locator("#pixel-message").inner_text()
        tolerance.fill("60")
        tolerance.press("Tab")
        page.locator("#pixel-viewer").focus()
        _click(page, 150, 150)
        tolerance.fill("10")
        tolerance.press("Tab")
        _click(page, 250, 160, alt=True)  # tolerance 10 around a dark pixel: erases a part of the block
        page.keyboard.press("2")
        page.keyboard.press("r")
        _drag(page, (400, 300), (500, 400))
        page.keyboard.press("Control+x")  # nothing selected yet: the page says so
        assert "Select a rectangle first" in page.locator("#pixel-message").inner_text()
        page.keyboard.press("m")
        _drag(page, (450, 350), (560, 420))
        page.keyboard.press("Control+x")  # cut layer 2 there
        page.keyboard.press("1")
        page.keyboard.press("Control+v")
        page.wait_for_timeout(200)
        assert _layer1_shown(page, 475, 375), "the cut, pasted on layer 1, is drawn there"
        assert _layer1_shown(page, 150, 150) and _layer1_shown(page, 300, 200), "the fill is drawn"
        assert not _layer1_shown(page, 250, 160) and not _layer1_shown(page, 350, 150), "erased, or not filled"
        _drag(page, (80, 90), (200, 180))
        page.keyboard.press("Control+c")  # copy layer 1 there
        page.keyboard.press("2")
        _drag(page, (140, 135), (440, 385))  # a drag inside the selection moves it: the paste goes there
        page.keyboard.press("Control+v")
        page.screenshot(path=str(tmp_path / "tools.png"))
        ops = page.evaluate("window.pixel.ops()")
        assert [(op["layer"], op["tool"], bool(op.get("erase"))) for op in ops] == [
            ("region", "rect", False), (1, "fill", False), (1, "fill", True), (2, "rect", False),
            (2, "rect", True), (1, "paste", False), (2, "paste", False)]
        assert set(ops[1]) == {"layer", "tool", "x", "y", "tolerance"}  # the seed, not a bitmap
        assert ops[5]["from_layer"] == 2 and ops[5]["at"] == 4 and ops[4]["points"] == ops[5]["rect"]
        assert ops[6]["from_layer"] == 1 and ops[6]["at"] == 6 and ops[5]["dx"] == ops[5]["dy"] == 0
        assert abs(ops[6]["dx"] - 300) <= 1 and abs(ops[6]["dy"] - 250) <= 1
        page.keyboard.press("Control+z")
        page.keyboard.press("Control+z")
        assert len(page.evaluate("window.pixel.ops()")) == 5
        page.keyboard.press("Control+Shift+z")
        page.keyboard.press("Control+Shift+z")
        assert page.evaluate("window.pixel.ops()") == ops
        page.keyboard.press("?")
        assert "Ctrl + V" in page.locator("#pixel-shortcuts").inner_text()
        page.keyboard.press("Escape")
        page.wait_for_selector("body[data-saved=saved]", timeout=15_000)

        page.reload()
        page.wait_for_selector("body[data-pixel=ready]", timeout=30_000)
        assert page.evaluate("window.pixel.ops()") == ops, "the fills and pastes come back after a reload"
        page.wait_for_function("window.pixel.fillsReady()", timeout=30_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(tmp_path / "tools-reloaded.png"))
        page.locator("#pixel-submit").click()
        page.wait_for_selector("body[data-pixel=submitted]", timeout=30_000)
        browser.close()
    wait_run(run, {RunStatus.FINISHED})
    assert errors == []

    grey = _luma(pixels)
    fill, erase = ops[1], ops[2]
    assert (fill["tolerance"], erase["tolerance"]) == (60, 10)
    filled, erased = _flood(grey, fill["x"], fill["y"], 60), _flood(grey, erase["x"], erase["y"], 10)
    assert filled.sum() == 120 * 220 and 1 <= erased.sum() < filled.sum()  # the dark block, then a part of it
    layer1 = filled & ~erased
    x0, y0, x1, y1 = ops[3]["points"]
    layer2 = np.zeros((H, W), bool)
    layer2[min(y0, y1):max(y0, y1), min(x0, x1):max(x0, x1)] = True
    cut = ops[5]["rect"]
    layer1 |= _box(layer2, cut)  # pasted as it was before the cut
    layer2 &= ~_box(np.ones((H, W), bool), cut)
    copied = _box(layer1, ops[6]["rect"])
    assert copied.any() and _box(layer2, cut).sum() < _box(layer1, cut).sum()
    layer2 |= np.roll(copied, (ops[6]["dy"], ops[6]["dx"]), axis=(0, 1))  # moved well inside the page: no wrap

    outputs = {o.output_port_type_name: np.array(Image.open(io.BytesIO(Path(storage.absolute_path(o.resource)).read_bytes())))
               for o in RunJob.objects.get(pk=run_job.pk).outputs.select_related("resource") if o.output_port_type_name != "ZIP"}
    opaque = np.concatenate([pixels, np.full((H, W, 1), 255, np.uint8)], axis=2)

    def cut_out(mask):
        expected = np.zeros((H, W, 4), np.uint8)
        expected[mask] = opaque[mask]
        return expected

    assert np.array_equal(outputs["PNG - Layer 1 Output"], cut_out(layer1))
    assert np.array_equal(outputs["PNG - Layer 2 Output"], cut_out(layer2))
