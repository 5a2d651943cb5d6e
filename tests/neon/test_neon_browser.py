"""Neon's page in a real browser (Debian chromium) on a real run: select, move, insert, undo, text, reload, submit.

One nc is dragged a step up with the mouse and another moved a step down
with the keyboard; a punctum is inserted, undone, redone and deleted; a
syllable's text is changed; a clef pushed off the page is refused by the
server with its sentence on the page, and undone. The work is saved and comes back after a
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
from browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.engine

BUILT = Path(__file__).resolve().parents[2] / "jobs" / "neon" / "static" / "build" / "neon.js"
FIXTURE = Path(__file__).parent / "fixtures" / "gloria_mei4.mei"
JSON = {"Accept": "application/json"}
MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
DRAGGED, KEYED, SYLLABLE_NC = "nc-b0011", "nc-b0021", "nc-b0008"


def _tree(text):
    return etree.fromstring(text.encode(), etree.XMLParser(remove_blank_text=True))


def _corrected_text(run_job):
    """The text of the job's `Corrected` output, as the worker wrote it."""
    output = RunJob.objects.get(pk=run_job.pk).outputs.select_related("resource").get()
    return Path(storage.absolute_path(output.resource)).read_text(encoding="utf-8")


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


def _drawn_as_verovio_draws(page):
    """Once every render has come in, the drawing on the page (moves drawn at once, then patched)
    is verovio's full rendering of the document, but for the page's marks and verovio's random ids."""
    page.evaluate("window.neon.idle()")
    drawn = page.evaluate("window.neon.drawing()")
    assert drawn and drawn == page.evaluate("window.neon.fullDrawing()")


def _drawn_at_once(page):
    """The last edit was drawn before verovio answered, and verovio's rendering changed nothing in it."""
    last = page.evaluate("window.neon.renderParts.at(-1)")
    assert last.get("previewExact") == 1 and last["replaced"] == 0 and last["changed"] == 0, last


def _waiting(start_worker, live_server, page_image, fixture):
    """(run, run_job, working URL) of Neon on ``fixture`` and its page image, waiting for its user."""
    project = make_project()
    workflow = valid_workflow(project, graph_document({"neon": ("Neon", {}, {"MEI": None, "Image": None},
                                                                ["Corrected"])}))
    assignments = {}
    for port in InputPort.objects.filter(workflow_job__workflow=workflow, extern=True):
        assignments[port] = ([upload(project, fixture, "folio MEI", "application/mei+xml")]
                             if port.input_port_type.name == "MEI"
                             else [upload(project, page_image(fixture), "folio", "image/rgb+png")])
    start_worker()
    run = create_run(workflow, assignments)
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       what="Neon to wait")
    url = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(project.creator.email, "pw"),
                        headers=JSON, timeout=10).json()["working_url"]
    return run, run_job, url


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Neon's page is not built (make frontend)")
def test_edit_reload_submit(start_worker, live_server, page_image, tmp_path):
    from playwright.sync_api import sync_playwright

    run, run_job, url = _waiting(start_worker, live_server, page_image, FIXTURE)
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
        _drawn_at_once(page)
        _drawn_as_verovio_draws(page)

        # another a step down by the keyboard
        page.mouse.click(*_centre(page, KEYED))
        assert page.locator("#neon-selection-pitch").inner_text() == "Pitch: b3"
        rendered = int(page.evaluate("document.body.dataset.rendered"))
        page.keyboard.press("ArrowDown")
        _rendered(page, rendered)
        assert page.locator("#neon-selection-pitch").inner_text() == "Pitch: a3"
        _drawn_at_once(page)
        _drawn_as_verovio_draws(page)
        page.keyboard.press("o")  # an octave up and back: drawn elsewhere, the zone kept
        page.wait_for_function("document.querySelector('#neon-selection-pitch').innerText === 'Pitch: a4'")
        page.keyboard.press("Shift+O")
        page.wait_for_function("document.querySelector('#neon-selection-pitch').innerText === 'Pitch: a3'")

        # insert a punctum on the second staff, undo, redo, delete it
        staff = page.locator('#neon-overlay [id="sb-b0039"]').bounding_box()
        page.keyboard.press("i")
        rendered = int(page.evaluate("document.body.dataset.rendered"))
        page.mouse.click(staff["x"] + staff["width"] * 0.8, staff["y"] + staff["height"] / 2)
        _rendered(page, rendered)
        assert _count(page, "g.nc") == ncs + 1
        _drawn_at_once(page)  # drawn as a new syllable before verovio answered
        _drawn_as_verovio_draws(page)
        page.keyboard.press("Control+z")
        page.wait_for_function(f"document.querySelectorAll('#neon-overlay g.nc').length === {ncs}")
        page.keyboard.press("Control+Shift+z")
        page.wait_for_function(f"document.querySelectorAll('#neon-overlay g.nc').length === {ncs + 1}")
        inserted = page.evaluate("document.querySelector('#neon-overlay g.nc[id^=\"m-nc-\"]').id")
        page.mouse.click(*_centre(page, inserted))  # undo took the selection with the glyph
        assert page.locator("#neon-selection-kind").inner_text() == "1 selected (nc)"
        page.keyboard.press("Delete")
        page.wait_for_function(f"document.querySelectorAll('#neon-overlay g.nc').length === {ncs}")
        _drawn_as_verovio_draws(page)
        _drawn_at_once(page)  # the deleted punctum was taken off at once, with its neume and syllable

        # the first syllable's text
        page.keyboard.press("s")
        page.mouse.click(*_centre(page, SYLLABLE_NC))
        page.locator("#neon-syl-text").fill("Glo-")
        page.locator("#neon-syl-text").press("Enter")
        page.wait_for_function("window.neon.mei().includes('>Glo-</syl>')")
        _drawn_as_verovio_draws(page)
        _drawn_at_once(page)  # written into the drawn text at once
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

        # a clef pushed off the page's left edge: the server refuses, the page says why, nothing is lost
        page.keyboard.press("e")
        clef = page.locator('#neon-overlay [id="clef-b0004"]').bounding_box()
        page.mouse.click(clef["x"] + clef["width"] * 0.2, clef["y"] + clef["height"] * 0.2)  # on its stroke
        assert page.locator("#neon-selection-kind").inner_text() == "1 selected (clef)"
        page.keyboard.press("l")  # C to F: the components now read against an F clef are off their line
        page.wait_for_function("window.neon.mei().includes('shape=\"F\" line=\"4\"')")
        page.wait_for_function("document.querySelectorAll('#neon-overlay .neon-offline').length > 0")
        page.keyboard.press("l")
        page.wait_for_function("document.querySelectorAll('#neon-overlay .neon-offline').length === 0")
        for _ in range(7):
            page.keyboard.press("Shift+ArrowLeft")
        page.wait_for_function("window.neon.mei().includes('ulx=\"-25\"')")
        page.locator("#neon-submit").click()
        page.wait_for_function("document.querySelector('#neon-message').innerText.startsWith('Not submitted')")
        refusal = page.locator("#neon-message").inner_text()
        assert "is not inside its surface" in refusal and "Your work is kept" in refusal
        page.screenshot(path=str(tmp_path / "4-refused.png"))
        assert page.evaluate("document.body.dataset.neon") == "ready"
        for _ in range(7):
            page.keyboard.press("Control+z")
        page.wait_for_function(f"window.neon.mei() === {edited!r}")

        page.locator("#neon-submit").click()
        page.wait_for_selector("body[data-neon=submitted]", timeout=30_000)
        assert "Submitted" in page.locator("#neon-message").inner_text()
        page.screenshot(path=str(tmp_path / "5-submitted.png"))
        browser.close()

    wait_run(run, {RunStatus.FINISHED})
    assert errors == []
    foreign = [u for u in requested if not u.startswith(live_server + "/") and not u.startswith(("data:", "blob:"))]
    assert foreign == []

    corrected = _tree(_corrected_text(run_job))
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


def _off_line(root):
    """Ids of the ncs whose zone centre is over a quarter staff space from their pitch (clef C = c4, F = f3).

    Worked out here from the fixture's evenly spaced four-line staff zones,
    not from the page's rule, which measures the staff verovio drew.
    """
    found, clef, staff = [], None, None
    zones = {z.get(XML_ID): z for z in root.iter(f"{MEI}zone")}
    box = lambda element: [float(zones[element.get("facs")[1:]].get(k)) for k in ("ulx", "uly", "lrx", "lry")]  # noqa
    steps = "cdefgab"
    for element in root.find(f".//{MEI}layer").iter():
        if element.tag == f"{MEI}sb":
            staff = box(element)
        elif element.tag == f"{MEI}clef":
            clef = (element.get("shape"), int(element.get("line")))
        elif element.tag == f"{MEI}nc":
            space = (staff[3] - staff[1]) / 3
            reference = 28 if clef[0] == "C" else 24
            value = int(element.get("oct")) * 7 + steps.index(element.get("pname"))
            expected = staff[3] - (clef[1] - 1) * space - (value - reference) * space / 2
            ulx, uly, lrx, lry = box(element)
            if abs((uly + lry) / 2 - expected) > space / 4:
                found.append(element.get(XML_ID))
    return found


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Neon's page is not built (make frontend)")
def test_a_ten_system_page_opens_with_off_line_components_outlined(start_worker, live_server, page_image, tmp_path):
    from playwright.sync_api import sync_playwright

    fixture = FIXTURE.parent / "ad_te_levavi_mei5.mei"
    expected = _off_line(_tree(fixture.read_text(encoding="utf-8")))
    assert len(expected) == 4  # a neume of three written a step high, and one more component
    _, _, url = _waiting(start_worker, live_server, page_image, fixture)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-neon=ready]", timeout=90_000)  # a worker makes the tiles first
        page.reload()  # opened again with the tiles ready: the time a user waits
        page.wait_for_selector("body[data-neon=ready]", timeout=60_000)
        marks = page.evaluate("['neon-tiles-ready', 'neon-first-view', 'neon-first-render', 'neon-ready'].map("
                              "(name) => Math.round(performance.getEntriesByName(name)[0].startTime))")
        first = page.evaluate("window.neon.renderParts[0]")  # where the first render's time went
        assert _count(page, "g.nc") == 326 and _count(page, "g.staff") == 10
        outlined = page.evaluate("[...document.querySelectorAll('#neon-overlay .neon-offline')].map((e) => e.id)")
        assert sorted(outlined) == sorted(expected)
        assert page.locator("#neon-offline").inner_text().startswith("4 neume components sit off")
        page.screenshot(path=str(tmp_path / "ten-systems.png"))
        # a component held up and moved sideways, key after key: each drawn at once, renders overtaken
        # by a newer edit dropped, and the drawing in the end is verovio's for the document
        page.keyboard.press("c")
        page.mouse.click(*_centre(page, "nc-d0010"))
        before = _tree(page.evaluate("window.neon.mei()"))
        for key in ["ArrowUp", "ArrowUp", "ArrowUp", "ArrowRight", "ArrowDown"]:
            page.keyboard.press(key)
        _drawn_as_verovio_draws(page)
        _drawn_at_once(page)
        after = _tree(page.evaluate("window.neon.mei()"))
        moved = _by_id(after, "nc-d0010")
        assert (moved.get("pname"), moved.get("oct")) == ("c", "4")  # a3, two steps up
        assert _box(after, moved)[0] > _box(before, _by_id(before, "nc-d0010"))[0]
        browser.close()
    print(f"\nneon: a ten-system page (436 zones): tiles ready / first view / neumes drawn / ready at {marks} ms "
          f"after navigation; verovio's worker running at {first['workerStarted']:.0f} ms, started in "
          f"{first['startup']:.0f} ms, read the MEI in {first['load']:.0f} ms, drew it in {first['draw']:.0f} ms, "
          f"its answer reached the page in {first['delivered']:.0f} ms; screenshot in {tmp_path}")


def _image_point(page, x, y, size=(1200, 600)):
    """Where on the screen the page image's pixel (x, y) is drawn."""
    svg = page.locator("#neon-overlay > svg").bounding_box()
    return svg["x"] + x * svg["width"] / size[0], svg["y"] + y * svg["height"] / size[1]


def _on_line(page, staff):
    """A point on the top line of ``staff`` as drawn (a staff is picked by its lines)."""
    box = page.locator(f'#neon-overlay [id="{staff}"] > path').first.bounding_box()
    return box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2


def _edit(page, action):
    """Do ``action`` (a key, or a callable) and wait for the page to draw the result.

    A rendering of an earlier edit may land between reading the count and the key: the drawing
    must also be of the latest edit (data-drawn-edit equal to data-edits).
    """
    rendered = int(page.evaluate("document.body.dataset.rendered"))
    page.keyboard.press(action) if isinstance(action, str) else action()
    page.wait_for_function(
        f"Number(document.body.dataset.rendered) > {rendered}"
        " && (document.body.dataset.edits ?? '0') === (document.body.dataset.drawnEdit ?? '0')",
        timeout=30_000,
    )


def _selected(page, text):
    """Wait until the selection panel says ``text`` (the shared machine may be slow)."""
    page.wait_for_function(f"document.querySelector('#neon-selection-kind')?.innerText === {text!r}", timeout=10_000)


def _children(root, ident):
    return [c.get(XML_ID) for c in _by_id(root, ident)]


def _box(root, element):
    zone = _by_id(root, element.get("facs")[1:])
    return [int(zone.get(k)) for k in ("ulx", "uly", "lrx", "lry")]


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Neon's page is not built (make frontend)")
def test_structure_staves_verified_and_the_second_tab(start_worker, live_server, page_image, tmp_path):
    """Group/ungroup, merge/split, clef/custos/division inserted, a staff drawn, resized and moved, "verified".

    A second tab gets the lock's sentence and cannot save; everything is checked in ``Corrected``.
    """
    from playwright.sync_api import sync_playwright

    run, run_job, url = _waiting(start_worker, live_server, page_image, FIXTURE)
    source = _tree(FIXTURE.read_text(encoding="utf-8"))
    puts = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-neon=ready]", timeout=90_000)

        # a second tab of the same user: told in a sentence, cannot save or submit
        second = context.new_page()
        second.on("request", lambda request: puts.append(request) if request.method == "PUT" else None)
        second.goto(url)
        second.wait_for_selector("body[data-neon=ready]", timeout=60_000)
        second.wait_for_selector("#neon-save[data-state=blocked]")
        assert "open for editing in another tab" in second.locator("#neon-save").inner_text()
        assert second.locator("#neon-submit").is_disabled() and second.locator("#neon-take-over").is_visible()
        claims = len(puts)
        before = second.evaluate("window.neon.mei()")
        second.keyboard.press("v")
        second.keyboard.press("t")
        second.mouse.click(*_on_line(second, "sb-b0039"))
        second.keyboard.press("ArrowDown")
        second.wait_for_timeout(3000)  # longer than the autosave delay: nothing may be sent
        assert second.evaluate("window.neon.mei()") == before and len(puts) == claims
        second.screenshot(path=str(tmp_path / "1-second-tab.png"))
        second.close()

        # group two neumes, ungroup another (neume mode)
        page.keyboard.press("n")
        page.mouse.click(*_centre(page, "nc-b0008"))
        page.keyboard.down("Shift")
        page.mouse.click(*_centre(page, "nc-b0011"))
        page.keyboard.up("Shift")
        _selected(page, "2 selected (neume)")
        _edit(page, "g")
        page.mouse.click(*_centre(page, "nc-b0021"))
        _edit(page, "u")

        # merge "pa" and "tri", then split the merged syllable before tri's neume (syllable mode, neume mode)
        page.keyboard.press("s")
        page.mouse.click(*_centre(page, "nc-b0053"))  # a punctum (a virga's centre is beside its stem)
        page.keyboard.down("Shift")
        page.mouse.click(*_centre(page, "nc-b0065"))
        page.keyboard.up("Shift")
        _selected(page, "2 selected (syllable)")
        _edit(page, "m")
        page.keyboard.press("n")
        page.mouse.click(*_centre(page, "nc-b0065"))
        _edit(page, "k")

        # a C clef, a custos and a division line on the second staff, right of its neumes
        for kind, (x, y) in (("clefC", (700, 340)), ("custos", (800, 350)), ("divLine", (900, 350))):
            page.locator("#neon-insert-kind").select_option(kind)
            page.locator("#neon-insert").click()  # the list keeps the focus (and its keys) after a choice
            _edit(page, lambda: page.mouse.click(*_image_point(page, x, y)))
        page.keyboard.press("Escape")

        # a new staff drawn as a rectangle below the others, resized by keys and its corner, moved
        page.locator("#neon-insert-kind").select_option("staff")
        page.locator("#neon-insert").click()
        staves = _count(page, "g.staff")

        def draw():
            page.mouse.move(*_image_point(page, 150, 470))
            page.mouse.down()
            page.mouse.move(*_image_point(page, 500, 500), steps=4)
            page.mouse.move(*_image_point(page, 900, 530), steps=4)
            page.mouse.up()

        _edit(page, draw)
        assert _count(page, "g.staff") == staves + 1
        _selected(page, "1 selected (staff)")
        _edit(page, "Alt+ArrowRight")  # 4 px wider
        handle = page.locator("#neon-handle-end").bounding_box()
        hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        scale = page.locator("#neon-overlay > svg").bounding_box()["width"] / 1200

        def stretch():
            page.mouse.move(hx, hy)
            page.mouse.down()
            page.mouse.move(hx + 20 * scale, hy, steps=3)
            page.mouse.move(hx + 40 * scale, hy, steps=3)
            page.mouse.up()

        _edit(page, stretch)
        page.screenshot(path=str(tmp_path / "2-staff-inserted.png"))

        # verified, then an edit clears it with a note, then verified again
        _edit(page, "v")
        assert page.locator("#neon-verified").get_attribute("aria-pressed") == "true"
        page.keyboard.press("t")
        page.mouse.click(*_on_line(page, "sb-b0039"))  # staff mode: the second staff moves with its glyphs
        _selected(page, "1 selected (staff)")
        _edit(page, "ArrowDown")
        assert page.locator("#neon-verified").get_attribute("aria-pressed") == "false"
        assert "no longer marked verified" in page.locator("#neon-message").inner_text()
        _edit(page, "v")
        page.wait_for_selector("#neon-save[data-state=saved]", timeout=15_000)
        edited = page.evaluate("window.neon.mei()")
        page.reload()
        page.wait_for_selector("body[data-neon=ready]", timeout=60_000)
        assert page.evaluate("window.neon.mei()") == edited
        assert page.locator("#neon-verified").get_attribute("aria-pressed") == "true"
        page.keyboard.press("?")
        shortcuts = page.locator("#neon-shortcuts").inner_text()
        assert "Resize the selected staff" in shortcuts and "Mark the page verified" in shortcuts
        page.keyboard.press("Escape")
        page.screenshot(path=str(tmp_path / "3-verified.png"))
        page.locator("#neon-submit").click()
        page.wait_for_selector("body[data-neon=submitted]", timeout=30_000)
        browser.close()

    wait_run(run, {RunStatus.FINISHED})
    corrected = _tree(_corrected_text(run_job))

    # grouping: nc-b0011 and nc-b0013 joined nc-b0008's neume; nc-b0023 has a neume of its own after nc-b0021's
    assert _children(corrected, "neume-b0009") == ["nc-b0008", "nc-b0011", "nc-b0013"]
    assert _by_id(corrected, "neume-b0014") is None
    ungrouped = _by_id(corrected, "nc-b0023").getparent()
    assert _children(corrected, "neume-b0024") == ["nc-b0021"] and ungrouped.get(XML_ID) != "neume-b0024"
    assert ungrouped.getprevious().get(XML_ID) == "neume-b0024" and ungrouped.getparent().get(XML_ID) == "syllable-b0025"
    # merged then split: "patri" keeps pa's neumes; tri's neume begins a new syllable right after it
    merged = _by_id(corrected, "syllable-b0059")
    assert merged.find(f"{MEI}syl").text == "patri" and _by_id(corrected, "syllable-b0067") is None
    assert [n.get(XML_ID) for n in merged.findall(f"{MEI}neume")] == ["neume-b0051", "neume-b0058"]
    split = merged.getnext()
    assert split.tag == f"{MEI}syllable" and [n.get(XML_ID) for n in split] == ["neume-b0066"]

    # the inserted clef, custos and division line: on the second system, in the order clicked, where clicked
    layer = corrected.find(f".//{MEI}layer")
    items = list(layer.iter())[1:]  # in document order: the second system's sb is inside a syllable
    second, third = [i for i, e in enumerate(items) if e.tag == f"{MEI}sb"][1:]
    new = [e for e in items[second:third] if (e.get(XML_ID) or "").startswith("m-")
           and e.tag in (f"{MEI}clef", f"{MEI}custos", f"{MEI}divLine")]
    assert [e.tag for e in new] == [f"{MEI}clef", f"{MEI}custos", f"{MEI}divLine"]
    clef, custos, division = new
    moved = 10  # the second staff was moved down half a staff space (its 20 px space) afterwards, with these
    assert clef.get("shape") == "C" and clef.get("line") == "3"  # y 340: the third of the lines at 380, 360, 340, 320
    ulx, uly, lrx, lry = _box(corrected, custos)
    value = int(custos.get("oct")) * 7 + "cdefgab".index(custos.get("pname"))
    staff_bottom = 380 + moved
    expected = staff_bottom - (int(clef.get("line")) - 1) * 20 - (value - 28) * 10
    assert abs((uly + lry) / 2 - expected) <= 5 and abs(ulx - 800) <= 2 and abs(_box(corrected, clef)[0] - 700) <= 2
    assert _box(corrected, division)[0] in range(898, 903)

    # the second staff moved with its glyphs, pitches kept
    for ident in ("sb-b0039", "clef-b0041", "nc-b0050", "nc-b0065"):
        element = _by_id(corrected, ident)
        before, after = _box(source, _by_id(source, ident)), _box(corrected, element)
        assert after[1] - before[1] in range(8, 13) and after[0] == before[0], ident
        assert element.get("pname") == _by_id(source, ident).get("pname")

    # the new system: its own sb (n=3) and zone as drawn, then resized; a C clef in it
    sb = items[third]
    assert sb.get("n") == "3" and sb.get(XML_ID).startswith("m-sb-")
    ulx, uly, lrx, lry = _box(corrected, sb)
    assert abs(ulx - 150) <= 2 and abs(uly - 470) <= 2 and abs(lry - 530) <= 2
    assert abs(lrx - (900 + 4 + 40)) <= 3
    assert sb.getparent() is layer and [e.tag for e in sb.itersiblings()] == [f"{MEI}clef"]

    # verified: a dated change in meiHead's revisionDesc
    changes = corrected.findall(f"{MEI}meiHead/{MEI}revisionDesc/{MEI}change[@type='neon-verified']")
    assert len(changes) == 1 and changes[0].get("isodate", "").startswith("20")
    assert "verified" in changes[0].find(f"{MEI}changeDesc/{MEI}p").text


def _on_turned_line(page, staff):
    """The middle of the top line of ``staff``, on it even when the staff is turned."""
    box = page.locator(f'#neon-overlay [id="{staff}"] > path').first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _slope(page, staff):
    """(y2 - y1) / (x2 - x1) of the top line of ``staff`` as verovio drew it."""
    d = page.evaluate(f"document.querySelector('#neon-overlay [id=\"{staff}\"] > path').getAttribute('d')")
    x1, y1, x2, y2 = (float(v) for v in d.replace("M", " ").replace("L", " ").split())
    return (y2 - y1) / (x2 - x1)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Neon's page is not built (make frontend)")
def test_a_staff_rotated_and_a_staff_deleted(start_worker, live_server, page_image, tmp_path):
    """The first staff turned a degree, the already turned second staff turned further, undone and redone;
    the second staff deleted with what is on it (a syllable runs from it into the third), undone and redone;
    the work saved, restored after a reload, submitted, and exactly that found in ``Corrected``."""
    from playwright.sync_api import sync_playwright

    fixture = FIXTURE.parent / "kyrie_mei5.mei"
    run, run_job, url = _waiting(start_worker, live_server, page_image, fixture)
    source = _tree(fixture.read_text(encoding="utf-8"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-neon=ready]", timeout=90_000)
        assert _slope(page, "sb-c0002") == 0 and _slope(page, "sb-c0040") != 0  # the fixture's -1° staff

        page.keyboard.press("t")
        page.mouse.click(*_on_line(page, "sb-c0002"))
        _selected(page, "1 selected (staff)")
        _edit(page, "r")
        _edit(page, "r")
        assert page.locator("#neon-selection-rotation").inner_text() == "Rotation: 1.0°"
        assert _slope(page, "sb-c0002") != 0, "verovio draws the staff turned"

        page.mouse.click(*_on_turned_line(page, "sb-c0040"))
        _selected(page, "1 selected (staff)")
        assert page.locator("#neon-selection-rotation").inner_text() == "Rotation: -1.0°"
        turned = _slope(page, "sb-c0040")
        _edit(page, "Shift+R")
        assert page.locator("#neon-selection-rotation").inner_text() == "Rotation: -1.5°"
        assert abs(_slope(page, "sb-c0040")) > abs(turned)
        _edit(page, "Control+z")
        page.wait_for_function("window.neon.mei().includes('rotate=\"-1.0\"')")
        _edit(page, "Control+Shift+z")
        page.wait_for_function("window.neon.mei().includes('rotate=\"-1.5\"')")
        page.screenshot(path=str(tmp_path / "1-rotated.png"))

        # the second staff deleted with its glyphs; undo brings it back, redo takes it again
        page.mouse.click(*_on_turned_line(page, "sb-c0040"))
        _selected(page, "1 selected (staff)")
        _edit(page, "Delete")
        assert _count(page, "g.staff") == 2, page.locator("#neon-message").inner_text()
        assert "The staff was deleted with the" in page.locator("#neon-message").inner_text()
        _edit(page, "Control+z")
        assert _count(page, "g.staff") == 3 and _count(page, '[id="nc-c0075"]') == 1
        _edit(page, "Control+Shift+z")
        assert _count(page, "g.staff") == 2 and _count(page, '[id="nc-c0075"]') == 0
        page.screenshot(path=str(tmp_path / "2-deleted.png"))

        page.wait_for_selector("#neon-save[data-state=saved]", timeout=15_000)
        edited = page.evaluate("window.neon.mei()")
        page.reload()
        page.wait_for_selector("body[data-neon=ready]", timeout=60_000)
        assert page.evaluate("window.neon.mei()") == edited
        page.locator("#neon-submit").click()
        page.wait_for_selector("body[data-neon=submitted]", timeout=30_000)
        browser.close()

    wait_run(run, {RunStatus.FINISHED})
    text = _corrected_text(run_job)
    corrected = _tree(text)
    assert "-neon-" not in text and "precedes" not in text and "follows" not in text

    assert _by_id(corrected, "zone-c0001").get("rotate") == "1.0"
    # the second system: everything from its sb to the third's, but the syllable running on into the third
    items = list(source.find(f".//{MEI}layer").iter())
    start = items.index(_by_id(source, "sb-c0040"))
    end = items.index(_by_id(source, "sb-c0081"))
    gone = {e.get(XML_ID) for e in items[start:end] if e.get(XML_ID) != "syllable-c0077"}
    gone |= {e.get("facs")[1:] for e in items[start:end] if e.get("facs")}
    ids = lambda root: {e.get(XML_ID) for e in root.iter() if e.get(XML_ID)}  # noqa: E731
    assert ids(corrected) == ids(source) - gone
    # the syllable that ran over the break keeps its id and what was on the third system
    syllable = _by_id(corrected, "syllable-c0077")
    assert [c.get(XML_ID) for c in syllable] == ["clef-c0083", "neume-c0088"]
    assert syllable.getprevious().get(XML_ID) == "sb-c0081"
    assert syllable.getprevious().getprevious().get(XML_ID) == "custos-c0038"  # the first system's last glyph
    assert _by_id(corrected, "sb-c0081").get("n") == "2"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.skipif(not BUILT.exists(), reason="Neon's page is not built (make frontend)")
def test_the_first_staff_deleted_and_the_last_kept(start_worker, live_server, page_image):
    """The first of two systems deleted (a syllable begins on it and runs into the second): the page keeps
    its staff and layer ids and the syllable its id; the one staff left cannot be deleted, in a sentence."""
    from playwright.sync_api import sync_playwright

    run, run_job, url = _waiting(start_worker, live_server, page_image, FIXTURE)
    source = _tree(FIXTURE.read_text(encoding="utf-8"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-neon=ready]", timeout=90_000)
        page.keyboard.press("t")
        page.mouse.click(*_on_line(page, "sb-b0002"))
        _selected(page, "1 selected (staff)")
        _edit(page, "Delete")
        assert _count(page, "g.staff") == 1, page.locator("#neon-message").inner_text()
        page.mouse.click(*_on_line(page, "sb-b0039"))
        _selected(page, "1 selected (staff)")
        page.keyboard.press("Delete")
        page.wait_for_function("document.querySelector('#neon-message').innerText.includes('keeps at least one staff')")
        assert _count(page, "g.staff") == 1
        page.wait_for_selector("#neon-save[data-state=saved]", timeout=15_000)
        page.locator("#neon-submit").click()
        page.wait_for_selector("body[data-neon=submitted]", timeout=30_000)
        browser.close()

    wait_run(run, {RunStatus.FINISHED})
    text = _corrected_text(run_job)
    corrected = _tree(text)
    assert "-neon-" not in text and "precedes" not in text and "follows" not in text
    layer = corrected.find(f".//{MEI}layer")
    assert layer.get(XML_ID) == "layer-b" and layer.getparent().get(XML_ID) == "staff-b"
    items = list(source.find(f".//{MEI}layer").iter())
    end = items.index(_by_id(source, "sb-b0039"))
    gone = {e.get(XML_ID) for e in items[1:end] if e.get(XML_ID) != "syllable-b0035"}
    gone |= {e.get("facs")[1:] for e in items[1:end] if e.get("facs")}
    ids = lambda root: {e.get(XML_ID) for e in root.iter() if e.get(XML_ID)}  # noqa: E731
    assert ids(corrected) == ids(source) - gone
    sb = layer[0]
    assert sb.get(XML_ID) == "sb-b0039" and sb.get("n") == "1"
    assert sb.getnext().get(XML_ID) == "syllable-b0035"
