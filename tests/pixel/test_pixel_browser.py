"""Pixel's page in a real browser (Debian chromium) on a real run: paint, reload, a second tab, submit.

The user selects the whole page, draws a rectangle on layer 1, a lasso on
layer 2 and erases part of it, undoes and redoes; the work is saved and
comes back after a reload; a second tab is told another one edits; the
submission's output PNGs hold the page's pixels exactly where painted
(expected masks computed here by slicing, from the edits' coordinates).
"""

import io
import os
from pathlib import Path

import numpy as np
import pytest
import requests
from builders import graph_document, make_project, upload, valid_workflow, wait_for, wait_run
from PIL import Image

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.models import InputPort, RunJob
from rodan.models.status import RunJobStatus, RunStatus
from browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.engine

BUILT = Path(__file__).resolve().parents[2] / "jobs" / "pixel" / "static" / "build" / "pixel.js"
W, H = 900, 600
JSON = {"Accept": "application/json"}


def _drag(page, points, alt=False):
    """Press at the first page pixel, move through the others, release (window coordinates from the page)."""
    where = [page.evaluate("([x, y]) => window.pixel.toWindow(x, y)", [x + 0.5, y + 0.5]) for x, y in points]
    if alt:
        page.keyboard.down("Alt")
    page.mouse.move(where[0]["x"], where[0]["y"])
    page.mouse.down()
    for point in where[1:]:
        page.mouse.move(point["x"], point["y"], steps=4)
    page.mouse.up()
    if alt:
        page.keyboard.up("Alt")


def _ops(page):
    return page.evaluate("window.pixel.ops()")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Pixel's page is not built (make frontend)")
def test_paint_reload_submit(start_worker, live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    project = make_project()
    doc = graph_document({"pixel": ("Pixel_js", {}, {"Image": None},
                                    ["PNG - Layer 1 Output", "PNG - Layer 2 Output", "Region", "Background"])})
    workflow = valid_workflow(project, doc)
    rng = np.random.default_rng(11)
    pixels = rng.integers(1, 255, (H, W, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "folio.png")
    resource = upload(project, tmp_path / "folio.png", "folio", "image/rgb+png")
    start_worker()
    run = create_run(workflow, {InputPort.objects.get(workflow_job__workflow=workflow, extern=True): [resource]})
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       what="Pixel to wait")
    acquired = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/",
                             auth=(project.creator.email, "pw"), headers=JSON, timeout=10)
    url = acquired.json()["working_url"]

    requested, errors = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.on("request", lambda request: requested.append(request.url))
        context.on("weberror", lambda error: errors.append(str(error.error)))
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-pixel=ready]", timeout=60_000)

        page.locator("#pixel-submit").click()  # nothing selected yet: the page says what is missing
        assert "Select a region first" in page.locator("#pixel-message").inner_text()

        page.keyboard.press("a")  # the whole page as the region
        page.keyboard.press("1")
        page.keyboard.press("r")
        _drag(page, [(100, 80), (300, 200)])
        page.keyboard.press("2")
        page.keyboard.press("l")
        _drag(page, [(400, 300), (600, 300), (600, 450), (400, 450)])
        page.keyboard.press("r")
        _drag(page, [(450, 320), (500, 360)], alt=True)  # Alt: the rectangle erases
        ops = _ops(page)
        assert [(op["layer"], op["tool"], bool(op.get("erase"))) for op in ops] == [
            ("region", "rect", False), (1, "rect", False), (2, "poly", False), (2, "rect", True)]
        page.keyboard.press("Control+z")
        assert len(_ops(page)) == 3
        page.keyboard.press("Control+Shift+z")
        assert _ops(page) == ops
        page.wait_for_selector("body[data-saved=saved]", timeout=15_000)
        page.screenshot(path=str(tmp_path / "1-painted.png"))

        page.reload()
        page.wait_for_selector("body[data-pixel=ready]", timeout=30_000)
        assert _ops(page) == ops, "the saved work comes back after a reload"
        assert "saved work is back" in page.locator("#pixel-status").inner_text()
        assert page.locator("#pixel-take-over").is_hidden()  # a reloaded tab is the same editor
        assert page.locator("#pixel-message").inner_text() == ""  # the hint went with the first edit

        other = context.new_page()  # a second tab of the same user
        other.goto(url)
        other.wait_for_selector("#pixel-take-over:visible", timeout=30_000)
        assert "another tab or window" in other.locator("#pixel-message").inner_text()
        other.screenshot(path=str(tmp_path / "2-second-tab.png"))
        other.locator("#pixel-submit").click()  # a refused tab cannot submit its copy either
        assert "cannot submit" in other.locator("#pixel-message").inner_text()
        other.close()

        page.keyboard.press("?")
        assert page.locator("#pixel-shortcuts").is_visible()
        page.screenshot(path=str(tmp_path / "3-shortcuts.png"))
        page.keyboard.press("Escape")
        page.locator("#pixel-submit").click()
        page.wait_for_selector("body[data-pixel=submitted]", timeout=30_000)
        assert "Submitted" in page.locator("#pixel-message").inner_text()
        page.screenshot(path=str(tmp_path / "4-submitted.png"))
        frame_times = page.evaluate("window.pixel.frameTimes")
        first_view = page.evaluate("Math.round(performance.getEntriesByName('pixel-first-view')[0].startTime)")
        browser.close()

    wait_run(run, {RunStatus.FINISHED})
    assert errors == []
    foreign = [u for u in requested if not u.startswith(live_server + "/") and not u.startswith("data:")]
    assert foreign == []

    rect1, poly2, erase2 = ops[1]["points"], ops[2]["points"], ops[3]["points"]
    assert abs(rect1[0] - 100) <= 1 and abs(rect1[3] - 200) <= 1  # where the mouse went, to a pixel
    layer1 = np.zeros((H, W), bool)
    layer1[min(rect1[1], rect1[3]):max(rect1[1], rect1[3]), min(rect1[0], rect1[2]):max(rect1[0], rect1[2])] = True
    xs, ys = poly2[0::2], poly2[1::2]
    on_edge = [x in (min(xs), max(xs)) or y in (min(ys), max(ys)) for x, y in zip(xs, ys)]
    assert len(xs) >= 4 and all(on_edge)  # the lasso went round a rectangle, so slicing gives its mask
    layer2 = np.zeros((H, W), bool)
    layer2[min(ys):max(ys) + 1, min(xs):max(xs) + 1] = True
    layer2[min(erase2[1], erase2[3]):max(erase2[1], erase2[3]), min(erase2[0], erase2[2]):max(erase2[0], erase2[2])] = False

    outputs = {o.output_port_type_name: np.array(Image.open(io.BytesIO(Path(storage.absolute_path(o.resource)).read_bytes())))
               for o in RunJob.objects.get(pk=run_job.pk).outputs.select_related("resource") if o.output_port_type_name != "ZIP"}
    opaque = np.concatenate([pixels, np.full((H, W, 1), 255, np.uint8)], axis=2)

    def cut(mask):
        expected = np.zeros((H, W, 4), np.uint8)
        expected[mask] = opaque[mask]
        return expected

    assert np.array_equal(outputs["PNG - Layer 1 Output"], cut(layer1))
    assert np.array_equal(outputs["PNG - Layer 2 Output"], cut(layer2))
    assert np.array_equal(outputs["Region"], opaque)
    assert np.array_equal(outputs["Background"], cut(~layer1 & ~layer2))
    frame_times.sort()
    print(f"\npixel: first view {first_view} ms after navigation; {len(frame_times)} overlay frames, p95 {frame_times[int(len(frame_times) * 0.95) - 1]:.1f} ms")


SIDE = 10000  # 100 megapixels


def _score_page(path):
    """A grey 10000 x 10000 page of staves, quick to draw and to compress."""
    import cv2

    page = np.full((SIDE, SIDE), 235, np.uint8)
    for staff_top in range(300, SIDE - 400, 420):
        for line in range(5):
            page[staff_top + line * 40: staff_top + line * 40 + 4, 200: SIDE - 200] = 20
    cv2.imwrite(str(path), page, [cv2.IMWRITE_PNG_COMPRESSION, 1])


def _staff_line_on_screen(page):
    """A pixel of a staff line of the score page near the middle of the view: (x, top row of the line)."""
    origin = page.evaluate("window.pixel.toWindow(0, 0)")
    unit = page.evaluate("window.pixel.toWindow(1, 1)")
    box = page.evaluate("(() => { const b = document.getElementById('pixel-viewer').getBoundingClientRect();"
                        " return {x: b.left + b.width / 2, y: b.top + b.height / 2}; })()")
    scale = unit["x"] - origin["x"]
    centre_x, centre_y = (box["x"] - origin["x"]) / scale, (box["y"] - origin["y"]) / scale
    lines = [top + line * 40 for top in range(300, SIDE - 400, 420) for line in range(5)]
    line_y = min(lines, key=lambda y: abs(y - centre_y))
    assert abs(line_y - centre_y) * scale < 300, "a staff line is on screen"
    return int(min(max(centre_x, 300), SIDE - 300)), line_y


# The page's speed on a big image, not the engine's backend, is what this measures: one session is enough.
@pytest.mark.services
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Pixel's page is not built (make frontend)")
def test_a_100_megapixel_page_opens_and_paints(start_worker, live_server, tmp_path):
    """Opened, painted at four zoom levels, submitted; prints open time, frame times, the tab's heap, re-run time."""
    import time

    from playwright.sync_api import sync_playwright

    project = make_project()
    doc = graph_document({"pixel": ("Pixel_js", {}, {"Image": None}, ["PNG - Layer 1 Output"])})
    workflow = valid_workflow(project, doc)
    _score_page(tmp_path / "big.png")
    resource = upload(project, tmp_path / "big.png", "big folio", "image/greyscale+png")
    start_worker()
    run = create_run(workflow, {InputPort.objects.get(workflow_job__workflow=workflow, extern=True): [resource]})
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       what="Pixel to wait")
    url = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(project.creator.email, "pw"),
                        headers=JSON, timeout=10).json()["working_url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.wait_for_selector("body[data-pixel=ready]", timeout=180_000)  # the worker makes the tiles first
        page.reload()  # opened again with the tiles ready: the time a user waits
        page.wait_for_selector("body[data-pixel=ready]", timeout=60_000)
        marks = page.evaluate("['pixel-work-loaded', 'pixel-tiles-ready', 'pixel-first-view'].map("
                              "(name) => Math.round(performance.getEntriesByName(name)[0].startTime))")
        page.keyboard.press("a")
        page.keyboard.press("1")
        page.keyboard.press("b")
        p95 = {}
        for zoom in ("whole page", "x8", "actual pixels", "x32"):
            if zoom == "x8":
                for _ in range(5):
                    page.keyboard.press("+")
            elif zoom == "actual pixels":
                page.get_by_role("button", name="Actual pixels").click()
            elif zoom == "x32":
                for _ in range(9):
                    page.keyboard.press("+")
            page.wait_for_timeout(1500)
            page.evaluate("window.pixel.frameTimes.length = 0")
            page.mouse.move(700, 300)
            page.mouse.down()
            for step in range(40):
                page.mouse.move(700 + step * 8, 300 + (step % 5) * 6)
            page.mouse.up()
            page.wait_for_timeout(200)
            page.screenshot(path=str(tmp_path / f"big-{zoom.replace(' ', '-')}.png"))
            times = sorted(page.evaluate("window.pixel.frameTimes"))
            assert times, "the overlay was drawn while painting"
            p95[zoom] = times[max(0, int(len(times) * 0.95) - 1)]
        # A fill on a page too large to decode in the tab: previewed from the full-resolution tiles it reaches.
        page.keyboard.press("w")
        page.get_by_role("button", name="Actual pixels").click()
        page.wait_for_timeout(1500)
        fill_x, line_y = _staff_line_on_screen(page)
        where = page.evaluate("([x, y]) => window.pixel.toWindow(x, y)", [fill_x + 0.5, line_y + 1.5])
        started = time.monotonic()
        page.mouse.click(where["x"], where["y"])
        page.wait_for_function("window.pixel.fill(5) !== null", timeout=120_000)
        fill_s = time.monotonic() - started
        preview = page.evaluate("window.pixel.fill(5)")
        assert preview == {"pixels": 4 * (SIDE - 400), "box": [200, line_y, SIDE - 200, line_y + 4]}  # the whole line
        ops = page.evaluate("window.pixel.ops()")
        assert [op["layer"] for op in ops] == ["region", 1, 1, 1, 1, 1] and ops[5]["tool"] == "fill"
        client = page.context.new_cdp_session(page)
        client.send("Performance.enable")
        client.send("HeapProfiler.collectGarbage")
        heap = {m["name"]: m["value"] for m in client.send("Performance.getMetrics")["metrics"]}
        page.locator("#pixel-submit").click()
        page.wait_for_selector("body[data-pixel=submitted]", timeout=60_000)
        submitted = time.monotonic()
        browser.close()
    wait_run(run, {RunStatus.FINISHED}, timeout=300)
    rerun_s = time.monotonic() - submitted
    output = next(o for o in RunJob.objects.get(pk=run_job.pk).outputs.select_related("resource")
                  if o.output_port_type_name == "PNG - Layer 1 Output")
    layer = np.array(Image.open(storage.absolute_path(output.resource)))
    assert layer.shape == (SIDE, SIDE, 4) and layer[..., 3].any()
    x, y = ops[1]["points"][:2]
    assert tuple(layer[y, x]) == (235, 235, 235, 255) or tuple(layer[y, x]) == (20, 20, 20, 255)
    assert tuple(layer[line_y + 1, SIDE - 201]) == (20, 20, 20, 255)  # the far end of the filled staff line
    print(f"\npixel 100 MP: work loaded / tiles ready / first view at {marks} ms; overlay p95 per zoom "
          + ", ".join(f"{zoom} {ms:.1f} ms" for zoom, ms in p95.items())
          + f"; fill preview from tiles {fill_s:.1f} s"
          + f"; JS heap {heap.get('JSHeapUsedSize', 0) / 2**20:.1f} MB; re-run and finish {rerun_s:.1f} s")
