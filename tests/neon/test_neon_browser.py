"""Neon's page in a real browser (Debian chromium) on a real run: select, move, insert, undo, text, reload, submit.

One nc is dragged a step up with the mouse and another moved a step down
with the keyboard; a punctum is inserted, undone, redone and deleted; a
syllable's text is changed. The work is saved and comes back after a
reload; the submitted ``Corrected`` equals the input but for exactly those
pitches, zones and text.
"""

import os
from pathlib import Path

import pytest
import requests
from builders import graph_document, make_project, upload, valid_workflow, wait_for, wait_run
from lxml import etree

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.models import InputPort, RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
BUILT = Path(__file__).resolve().parents[2] / "jobs" / "neon" / "static" / "build" / "neon.js"
FIXTURE = Path(__file__).parent / "fixtures" / "gloria_mei4.mei"
JSON = {"Accept": "application/json"}
MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
DRAGGED, KEYED, SYLLABLE_NC = "nc-b0011", "nc-b0021", "nc-b0008"


def _tree(text):
    return etree.fromstring(text.encode(), etree.XMLParser(remove_blank_text=True))


def _shape(element):
    return (element.tag, dict(element.attrib), (element.text or "").strip(), [_shape(c) for c in element])


def _by_id(root, ident):
    return root.find(f".//*[@{XML_ID}='{ident}']")


def _nc_state(root, ident):
    nc = _by_id(root, ident)
    zone = _by_id(root, nc.get("facs")[1:])
    return nc.get("pname"), nc.get("oct"), int(zone.get("uly")), int(zone.get("lry")), int(zone.get("ulx"))


def _centre(page, ident):
    box = page.locator(f'#neon-overlay [id="{ident}"]').bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _count(page, css):
    return page.evaluate(f"document.querySelectorAll('#neon-overlay {css}').length")


def _rendered(page, before):
    page.wait_for_function(f"Number(document.body.dataset.rendered) > {before}", timeout=10_000)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Neon's page is not built (make frontend)")
def test_edit_reload_submit(start_worker, live_server, page_image, tmp_path):
    from playwright.sync_api import sync_playwright

    project = make_project()
    workflow = valid_workflow(project, graph_document({"neon": ("Neon", {}, {"MEI": None, "Image": None},
                                                                ["Corrected"])}))
    assignments = {}
    for port in InputPort.objects.filter(workflow_job__workflow=workflow, extern=True):
        assignments[port] = ([upload(project, FIXTURE, "folio MEI", "application/mei+xml")]
                             if port.input_port_type.name == "MEI"
                             else [upload(project, page_image(FIXTURE), "folio", "image/rgb+png")])
    start_worker()
    run = create_run(workflow, assignments)
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       what="Neon to wait")
    url = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(project.creator.email, "pw"),
                        headers=JSON, timeout=10).json()["working_url"]
    source = _tree(FIXTURE.read_text(encoding="utf-8"))

    requested, errors = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.on("request", lambda request: requested.append(request.url))
        context.on("weberror", lambda error: errors.append(str(error.error)))
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-neon=ready]", timeout=90_000)
        ncs = _count(page, "g.nc")
        assert ncs == len(source.findall(f".//{MEI}nc"))
        page.screenshot(path=str(tmp_path / "1-opened.png"))

        # select a component, see its pitch, drag it a step up
        page.keyboard.press("c")
        x, y = _centre(page, DRAGGED)
        page.mouse.click(x, y)
        assert page.locator("#neon-selection-pitch").inner_text() == "Pitch: b3"
        scale = page.locator("#neon-overlay > svg").bounding_box()["width"] / 1200
        rendered = int(page.evaluate("document.body.dataset.rendered"))
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x, y - 5 * scale, steps=3)
        page.mouse.move(x, y - 10 * scale, steps=3)
        page.mouse.up()
        _rendered(page, rendered)
        assert page.locator("#neon-selection-pitch").inner_text() == "Pitch: c4"

        # another a step down by the keyboard
        page.mouse.click(*_centre(page, KEYED))
        assert page.locator("#neon-selection-pitch").inner_text() == "Pitch: b3"
        rendered = int(page.evaluate("document.body.dataset.rendered"))
        page.keyboard.press("ArrowDown")
        _rendered(page, rendered)
        assert page.locator("#neon-selection-pitch").inner_text() == "Pitch: a3"

        # insert a punctum on the second staff, undo, redo, delete it
        staff = page.locator('#neon-overlay [id="sb-b0039"]').bounding_box()
        page.keyboard.press("i")
        rendered = int(page.evaluate("document.body.dataset.rendered"))
        page.mouse.click(staff["x"] + staff["width"] * 0.8, staff["y"] + staff["height"] / 2)
        _rendered(page, rendered)
        assert _count(page, "g.nc") == ncs + 1
        page.keyboard.press("Control+z")
        page.wait_for_function(f"document.querySelectorAll('#neon-overlay g.nc').length === {ncs}")
        page.keyboard.press("Control+Shift+z")
        page.wait_for_function(f"document.querySelectorAll('#neon-overlay g.nc').length === {ncs + 1}")
        inserted = page.evaluate("document.querySelector('#neon-overlay g.nc[id^=\"m-nc-\"]').id")
        page.mouse.click(*_centre(page, inserted))  # undo took the selection with the glyph
        assert page.locator("#neon-selection-kind").inner_text() == "1 selected (nc)"
        page.keyboard.press("Delete")
        page.wait_for_function(f"document.querySelectorAll('#neon-overlay g.nc').length === {ncs}")

        # the first syllable's text
        page.keyboard.press("s")
        page.mouse.click(*_centre(page, SYLLABLE_NC))
        page.locator("#neon-syl-text").fill("Glo-")
        page.locator("#neon-syl-text").press("Enter")
        page.wait_for_function("window.neon.mei().includes('>Glo-</syl>')")
        page.wait_for_selector("#neon-save[data-state=saved]", timeout=15_000)
        edited = page.evaluate("window.neon.mei()")
        first_render, *edit_renders = page.evaluate("window.neon.renderTimes")  # the first includes verovio's start
        page.screenshot(path=str(tmp_path / "2-edited.png"))

        page.reload()
        page.wait_for_selector("body[data-neon=ready]", timeout=60_000)
        assert "was restored" in page.locator("#neon-message").inner_text()
        assert page.locator("#neon-save").inner_text().startswith("All changes saved")
        assert page.evaluate("window.neon.mei()") == edited, "the saved work comes back after a reload"

        page.keyboard.press("?")
        assert page.locator("#neon-shortcuts").is_visible()
        page.screenshot(path=str(tmp_path / "3-shortcuts.png"))
        page.keyboard.press("Escape")
        page.locator("#neon-submit").click()
        page.wait_for_selector("body[data-neon=submitted]", timeout=30_000)
        assert "Submitted" in page.locator("#neon-message").inner_text()
        page.screenshot(path=str(tmp_path / "4-submitted.png"))
        browser.close()

    wait_run(run, {RunStatus.FINISHED})
    assert errors == []
    foreign = [u for u in requested if not u.startswith(live_server + "/") and not u.startswith(("data:", "blob:"))]
    assert foreign == []

    output = RunJob.objects.get(pk=run_job.pk).outputs.select_related("resource").get()
    corrected = _tree(Path(storage.absolute_path(output.resource)).read_text(encoding="utf-8"))
    before = {ident: _nc_state(source, ident) for ident in (DRAGGED, KEYED)}
    after = {ident: _nc_state(corrected, ident) for ident in (DRAGGED, KEYED)}
    assert after[DRAGGED][:2] == ("c", "4") and after[KEYED][:2] == ("a", "3")
    for ident, sign in ((DRAGGED, -1), (KEYED, 1)):  # half a staff space (about 10 px) up or down, not sideways
        moved = after[ident][2] - before[ident][2]
        assert sign * moved in range(8, 12) and after[ident][3] - before[ident][3] == moved
        assert abs(after[ident][4] - before[ident][4]) <= 2
    # everything else as it was: put the three edits back and compare the whole document
    for ident in (DRAGGED, KEYED):
        nc, original = _by_id(corrected, ident), _by_id(source, ident)
        nc.set("pname", original.get("pname"))
        nc.set("oct", original.get("oct"))
        zone = _by_id(corrected, nc.get("facs")[1:])
        zone.attrib.update(_by_id(source, nc.get("facs")[1:]).attrib)
    corrected.find(f".//{MEI}syl").text = source.find(f".//{MEI}syl").text
    assert _shape(corrected) == _shape(source)
    edit_renders.sort()
    print(f"\nneon: first render {first_render:.0f} ms; {len(edit_renders)} edit renders, slowest "
          f"{edit_renders[-1]:.0f} ms, median {edit_renders[len(edit_renders) // 2]:.0f} ms; screenshots in {tmp_path}")
