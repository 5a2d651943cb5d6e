"""The web application with real workers (both backends): build a workflow in the graph editor, run it
over pages, follow the run live from the event stream, get the results; an interactive job finished
from the run page after a cancel and a retry; a failure shown where it happened.
"""

import json
import re
import zipfile

import numpy as np
import pytest
import requests
from api_clients import PASSWORD, make_user
from PIL import Image

pytestmark = pytest.mark.engine
JSON = {"Accept": "application/json"}


def _project_with_pages(server, user, count, tmp_path):
    auth = (user.email, PASSWORD)
    project = requests.post(f"{server}/api/projects/", json={"name": "Gradual"}, auth=auth, headers=JSON, timeout=10).json()
    for n in range(1, count + 1):
        page = np.full((160, 120, 3), 235, np.uint8)
        page[20 + n * 10 : 30 + n * 10, 10:110] = 20  # a dark bar, a different place on each page
        path = tmp_path / f"page {n}.png"
        Image.fromarray(page).save(path)
        with open(path, "rb") as handle:
            reply = requests.post(
                f"{server}/api/resources/", data={"project": project["url"]},
                files={"files": (path.name, handle, "image/png")}, auth=auth, headers=JSON, timeout=30,
            )
        assert reply.status_code == 201, reply.text
    return project


def _node(page, title):
    return page.locator(".react-flow__node", has=page.locator(".job-node-title", has_text=title))


def _drag(page, source, target):
    """Drag from one port to another as a person does with the mouse."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 40, start["y"] + 10, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=10)


def test_build_validate_run_and_collect_results(start_worker, live_server, session, tmp_path):
    start_worker(concurrency=2)
    user = make_user()
    project = _project_with_pages(live_server, user, 3, tmp_path)
    browser = session(live_server)
    page = browser.page
    browser.sign_in(user.email, PASSWORD)
    page.goto(f"{live_server}/projects/{project['uuid']}/workflows")
    page.get_by_label("Name", exact=True).fill("Binarize pages")
    page.get_by_role("button", name="Create and edit").click()
    page.get_by_label("Workflow name").wait_for()

    # Validating an empty workflow says so in a sentence.
    page.get_by_role("button", name="Validate").click()
    page.get_by_role("alert").filter(has_text="The workflow has no jobs yet").wait_for()

    # Jobs from the catalogue, found by search.
    page.get_by_label("Search jobs").fill("greyscale png")
    page.get_by_role("button", name="Add To greyscale PNG").click()
    _node(page, "To greyscale PNG").wait_for()
    page.get_by_label("Search jobs").fill("one-bit")
    page.get_by_role("button", name="Add To one-bit PNG").click()
    _node(page, "To one-bit PNG").wait_for()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node').length === 2")

    # Two jobs not connected: the validation error names it.
    page.get_by_role("button", name="Validate").click()
    page.get_by_role("alert").filter(has_text=re.compile("not connected", re.I)).first.wait_for()
    browser.shot("06-editor-errors")

    # While dragging from the greyscale output, the one-bit input is highlighted and the job's own input is not.
    grey_out = _node(page, "To greyscale PNG").locator(".react-flow__handle.source")
    grey_in = _node(page, "To greyscale PNG").locator(".react-flow__handle.target")
    onebit_in = _node(page, "To one-bit PNG").locator(".react-flow__handle.target")
    _drag(page, grey_out, onebit_in)
    assert "ok" in onebit_in.get_attribute("class").split()
    assert "no" in grey_in.get_attribute("class").split()
    browser.shot("07-editor-connecting", full_page=False)
    page.mouse.up()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length === 1")

    # A connection a port refuses is not made, and the reason is shown.
    _drag(page, grey_out, grey_in)
    page.mouse.up()
    page.get_by_role("alert").filter(has_text="This connection is refused: A job cannot feed itself.").wait_for()
    assert page.locator(".react-flow__edge").count() == 1

    page.get_by_role("button", name="Validate").click()
    page.get_by_text("The workflow is valid: you can run it.").wait_for()
    browser.shot("08-editor-valid")

    # Run over every page, from the editor.
    run_form = page.get_by_role("form", name="Start a run")
    run_form.get_by_role("button", name="Select all").click()
    run_form.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+$"))
    run_uuid = page.url.rstrip("/").split("/")[-1]
    page.locator("#run-summary").filter(has_text="6 finished of 6").wait_for(timeout=120_000)
    page.locator(".run-head .badge", has_text="Finished").wait_for(timeout=30_000)
    grid = page.get_by_role("table", name="Jobs per page")
    assert grid.locator("tbody tr").count() == 3
    assert grid.locator("button.cell[data-status='4']").count() == 6
    browser.shot("09-run-finished")
    # Followed from the event stream: the run itself was read once, never polled.
    run_reads = [url for method, url in browser.requests if method == "GET" and f"/api/workflowrun/{run_uuid}/" in url]
    assert len(run_reads) == 1, run_reads
    assert any("/events/" in url for _, url in browser.requests)

    # Results: one file, all as a zip, and a results package.
    results = page.get_by_role("region", name="Results")
    downloads = results.locator("ul.results").get_by_role("button", name=re.compile("^Download "))
    downloads.first.wait_for()
    assert downloads.count() == 3
    with page.expect_download() as one:
        downloads.first.click()
    assert one.value.suggested_filename.endswith(".png")
    assert Image.open(one.value.path()).mode == "1"
    with page.expect_download() as archive:
        results.get_by_role("button", name="Download all as zip").click()
    assert len(zipfile.ZipFile(archive.value.path()).namelist()) == 3
    results.get_by_role("button", name="Make a results package").click()
    with page.expect_download(timeout=120_000) as package:
        results.get_by_role("link", name="Download results package").click(timeout=120_000)
    names = zipfile.ZipFile(package.value.path()).namelist()
    assert "bagit.txt" in names and sum(name.endswith(".png") for name in names) == 3
    browser.shot("10-run-results")
    assert browser.axe() == []

    # A result opens in the deep-zoom viewer.
    with browser.context.expect_page() as viewer:
        results.get_by_role("button", name="View").first.click()
    viewer.value.wait_for_selector("body[data-viewer=ready]", timeout=120_000)
    browser.shot("11-viewer", viewer.value)

    # A page the run used cannot be deleted; the page says why, next to it.
    page.goto(f"{live_server}/projects/{project['uuid']}/resources")
    uploaded = page.locator("tr[data-resource='page 1']").last  # newest first: the results come before it
    uploaded.get_by_role("button", name="Delete page 1").click()
    uploaded.get_by_role("button", name="Confirm delete").click()
    uploaded.get_by_role("alert").filter(has_text="is used by a run of this project").wait_for()
    assert browser.errors == [], browser.errors
    assert browser.foreign_requests() == []


def test_interactive_job_cancel_retry_and_a_failure_shown_in_place(start_worker, live_server, session, tmp_path):
    start_worker()
    user = make_user()
    auth = (user.email, PASSWORD)
    project = requests.post(f"{live_server}/api/projects/", json={"name": "Greetings"}, auth=auth, headers=JSON, timeout=10).json()
    library = {"__version__": 0.2, "name": "Greet", "description": "", "connections": [], "workflow_jobs": [
        {"job_name": "Hello World - Interactive", "job_settings": {}, "input_ports": [],
         "output_ports": [{"label": "Text output", "type": "Text output", "id": 1}], "appearance": {"x": 0.3, "y": 0.4}},
    ]}
    path = tmp_path / "greet.json"
    path.write_text(json.dumps(library))

    browser = session(live_server)
    page = browser.page
    browser.sign_in(user.email, PASSWORD)
    page.goto(f"{live_server}/projects/{project['uuid']}/workflows")
    # Import a Rodan workflow file.
    page.get_by_label("Import a Rodan workflow file (.json)").set_input_files(str(path))
    page.get_by_label("Workflow name").wait_for()
    assert page.get_by_label("Workflow name").input_value() == "Greet"
    page.get_by_text("The workflow is valid: you can run it.").wait_for()
    page.get_by_role("form", name="Start a run").get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+$"))
    waiting = page.locator("button.cell[data-status='2']")
    waiting.wait_for(timeout=60_000)
    browser.shot("12-run-waiting")
    # Cancel, then retry: the job waits for its input again.
    page.get_by_role("button", name="Cancel run").click()
    page.locator(".run-head .badge", has_text="Cancelled").wait_for(timeout=30_000)
    page.locator("button.cell[data-status='9']").wait_for(timeout=30_000)
    page.get_by_role("button", name="Retry failed and cancelled jobs").click()
    waiting.wait_for(timeout=60_000)
    waiting.click()
    # The job's page opens inside the application, under its header, with a way back and a way out.
    page.get_by_role("link", name="Open this job's page").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+/interactive/[0-9a-f-]+$"))
    page.get_by_role("link", name="Back to the run").wait_for()
    assert page.get_by_role("banner").is_visible()  # the app's header stays above the job's page
    out = page.get_by_role("link", name="Open in a new tab")
    assert out.get_attribute("target") == "_blank" and "/api/interactive/" in out.get_attribute("href")
    frame_element = page.locator("iframe[title$='input for the run']")
    frame_element.wait_for()
    frame_element.element_handle().content_frame().wait_for_load_state("load")  # its script sends the form
    box = frame_element.bounding_box()
    assert box["height"] >= 400 and abs(box["y"] + box["height"] - 900) < 30, box  # the rest of the window
    job_page = page.frame_locator("iframe[title$='input for the run']")
    job_page.get_by_label("Name").fill("Hildegard")
    browser.shot("12b-run-interactive-in-app")
    job_page.get_by_role("button", name="Submit").click()
    # Submitted: back to the run, which says so.
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+$"))
    page.locator("#run-notice", has_text="was submitted").wait_for()
    page.locator(".run-head .badge", has_text="Finished").wait_for(timeout=60_000)
    results = page.get_by_role("region", name="Results")
    with page.expect_download() as greeting:
        results.locator("ul.results").get_by_role("button", name=re.compile("^Download ")).first.click()
    assert open(greeting.value.path()).read() == "Hello Hildegard"

    # A run that fails shows the error in place; cancel is offered while it runs, retry once it failed.
    page.goto(f"{live_server}/projects/{project['uuid']}/resources")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    page.get_by_test_id("upload-input").set_input_files(str(bad))
    page.locator("tr[data-resource='broken']").wait_for()
    page.get_by_label("Type of broken").select_option(label="RGB PNG image (image/rgb+png)")
    page.wait_for_function("() => document.querySelector(\"select[aria-label='Type of broken'] option:checked\").textContent.includes('rgb+png')")
    page.get_by_role("link", name="Workflows").click()
    page.get_by_role("button", name="Binarize", exact=True).click()
    page.get_by_text("The workflow is valid: you can run it.").wait_for()
    run_form = page.get_by_role("form", name="Start a run")
    run_form.get_by_label("broken").check()
    run_form.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+$"))
    page.locator(".run-head .badge", has_text="Failed").wait_for(timeout=60_000)
    failed = page.locator("button.cell[data-status='-1']")
    failed.wait_for()
    assert page.locator(".cell-error").first.inner_text().strip()
    failed.click()
    page.get_by_role("region", name="Selected job").get_by_text("Technical details").wait_for()
    browser.shot("13-run-failed")
    assert browser.axe() == []
    page.get_by_role("button", name="Retry failed and cancelled jobs").wait_for()
    assert browser.errors == [], browser.errors
