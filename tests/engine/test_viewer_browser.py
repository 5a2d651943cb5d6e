"""The image viewer in a real browser: a 100-megapixel page uploaded, tiled by a worker, opened and zoomed.

viewer_url -> acquire -> working URL, as Rodan's client does. The test prints
the tile generation time (the worker's own log line) and the open time (the
page's navigation start to its first view fully drawn), and asserts no
request left the server's origin.
"""

import math
import os
import re
import time

import cv2
import numpy as np
import pytest
import requests
from api_clients import PASSWORD, make_user

from rodan.models import Project
from browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.engine

SIDE = 10000  # 100 megapixels
TOP_LEVEL = math.ceil(math.log2(SIDE))
JSON = {"Accept": "application/json"}


def _score_page(path):
    """A grey 10000 x 10000 page of staves and note heads, quick to draw and to compress."""
    page = np.full((SIDE, SIDE), 235, np.uint8)
    rng = np.random.default_rng(7)
    for staff_top in range(300, SIDE - 400, 420):
        for line in range(5):
            y = staff_top + line * 40
            page[y : y + 4, 200 : SIDE - 200] = 20
        for x in rng.integers(300, SIDE - 300, 60):
            y = int(staff_top + rng.integers(-2, 10) * 20)
            cv2.ellipse(page, (int(x), y), (22, 16), -20, 0, 360, 10, -1)
            cv2.line(page, (int(x) + 20, y), (int(x) + 20, y - 140), 10, 4)
    cv2.imwrite(str(path), page, [cv2.IMWRITE_PNG_COMPRESSION, 1])


# The viewer's speed on a big image, not the engine's backend, is what this measures: one session is enough.
@pytest.mark.services
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
def test_a_100_megapixel_page_opens_and_zooms_to_its_pixels(tmp_path, monkeypatch, start_worker, live_server):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("RODAN_EAGER_TILES", "1")  # as deployed: tiles made right after the upload
    worker = start_worker()
    user = make_user()
    project = Project.objects.create(name="big pages", creator=user)
    page_path = tmp_path / "folio.png"
    _score_page(page_path)

    auth = (user.email, PASSWORD)
    with open(page_path, "rb") as handle:
        uploaded = requests.post(
            f"{live_server}/api/resources/",
            data={"project": f"{live_server}/api/project/{project.pk}/"},
            files={"files": ("folio.png", handle, "image/png")},
            auth=auth, headers=JSON, timeout=120,
        )
    assert uploaded.status_code == 201, uploaded.text
    resource = uploaded.json()[0]
    assert resource["resource_type"].endswith("/")
    acquired = requests.post(resource["viewer_url"], auth=auth, headers=JSON, timeout=10)
    assert acquired.status_code == 200, acquired.text
    working_url = acquired.json()["working_url"]

    requested = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.on("request", lambda request: requested.append(request.url))
        errors = []
        context.on("weberror", lambda error: errors.append(str(error.error)))
        context.on("console", lambda message: message.type == "error" and errors.append(message.text))

        # Opened while the worker is still making the tiles: a progress sentence that updates.
        waiting = context.new_page()
        waiting.goto(working_url)
        waiting.wait_for_selector("#viewer-status:has-text('image')")
        waiting.screenshot(path=str(tmp_path / "1-preparing.png"))
        waiting.wait_for_selector("body[data-viewer=ready]", timeout=60_000)
        waiting.close()
        made = re.search(r"Tiles of resource \S+ \(10000 x 10000\) made in ([\d.]+) s", worker.log_path.read_text())
        assert made, "the worker's log names the tiles it made"

        # Opened again with the tiles ready: the time a reader waits.
        page = context.new_page()
        loaded_tiles = []
        page.on("response", lambda response: loaded_tiles.append((response.url, response.status)))
        page.goto(working_url)
        page.wait_for_selector("body[data-viewer=ready]", timeout=30_000)
        open_ms = page.evaluate("performance.getEntriesByName('viewer-first-view')[0].startTime")
        page.screenshot(path=str(tmp_path / "2-whole-page.png"))
        assert page.evaluate("document.activeElement.classList.contains('openseadragon-canvas')")
        assert page.locator("#viewer-status").is_hidden()

        # Zoom to the page's own pixels: by keyboard, then by mouse wheel over a staff.
        for _ in range(10):
            page.keyboard.press("+")
            page.wait_for_timeout(80)
        page.mouse.move(640, 420)
        for _ in range(10):
            page.mouse.wheel(0, -120)
            page.wait_for_timeout(80)
        deepest = f"/tiles/files/{TOP_LEVEL}/"  # served under the viewer token, not /uploads/
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(deepest in url and status == 200 for url, status in loaded_tiles):
            page.wait_for_timeout(200)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(tmp_path / "3-full-resolution.png"))
        browser.close()

    assert errors == []
    deepest_loaded = [url for url, status in loaded_tiles if deepest in url and status == 200]
    assert deepest_loaded, "tiles of the full-resolution level were loaded"
    assert all(status < 400 for url, status in loaded_tiles), [r for r in loaded_tiles if r[1] >= 400]
    foreign = [url for url in requested if not url.startswith(live_server + "/") and not url.startswith("data:")]
    assert foreign == [], "every request stays on the server's origin"
    print(f"\nviewer: tiles of the 100 MP page made in {float(made.group(1)):.1f} s; "
          f"first view drawn {open_ms:.0f} ms after navigation; {len(deepest_loaded)} full-resolution tiles loaded")
