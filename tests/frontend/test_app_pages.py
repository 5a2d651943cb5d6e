"""The web application's pages that never reach a worker: sign in and out, registration, projects and
members, resources (upload, type, filter, delete). Real browser, real server, real API; one backend.
"""

import base64
import io
import json
import os
import re

import numpy as np
import pytest
import requests
from api_clients import PASSWORD, make_user
from playwright.sync_api import expect
from PIL import Image

pytestmark = pytest.mark.services


def _png(path, shade):
    Image.fromarray(np.full((120, 90, 3), shade, np.uint8)).save(path)
    return path


@pytest.fixture
def server(monkeypatch, request):
    """The live server with a 1 MiB upload limit, so a larger file is refused with a sentence."""
    monkeypatch.setenv("RODAN_MAX_UPLOAD_BYTES", str(1024 * 1024))
    return request.getfixturevalue("live_server")


def test_the_app_is_served_at_root_and_under_client_routes_without_shadowing_the_api(server):
    for path in ("/", "/projects/abc/resources", "/preferences"):
        reply = requests.get(server + path, timeout=10)
        assert reply.status_code == 200, path
        assert '<div id="app">' in reply.text
        assert re.search(r'src="/static/frontend/assets/app-[\w-]+\.js"', reply.text)
    assert requests.get(server + "/api/", headers={"Accept": "application/json"}, timeout=10).json()["version"]
    assert requests.get(server + "/uploads/nothing", timeout=10).status_code in (401, 404)
    assert requests.get(server + "/static/frontend/manifest.json", timeout=10).status_code == 200


def test_sign_in_projects_members_and_sign_out(server, session):
    user = make_user()
    other = make_user()
    key = user.auth_token.key
    browser = session(server)
    page = browser.page

    # A wrong password is a sentence on the form; the right one opens the projects.
    page.goto(server + "/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Invalid email or password.").wait_for()
    browser.shot("01-sign-in-error")
    assert browser.axe() == []
    browser.sign_in(user.email, PASSWORD)
    assert browser.context.cookies()[0]["name"] == "token"

    # Create a project by keyboard: the name field, then Enter.
    page.get_by_label("New project name").fill("Liber usualis")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Liber usualis").wait_for()
    assert re.search(r"/projects/[0-9a-f-]+/resources$", page.url)

    # Rename it and add members by username; an unknown username is explained.
    page.get_by_role("link", name="Settings and members").click()
    page.get_by_label("Name", exact=True).fill("Liber usualis 1961")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("heading", name="Liber usualis 1961").wait_for()
    workers = page.locator("section", has=page.get_by_role("heading", name="Workers"))
    workers.get_by_label("Add by username").fill("nobody-at-all")
    workers.get_by_role("button", name="Add").click()
    workers.get_by_role("alert").filter(has_text="User nobody-at-all does not exist.").wait_for()
    workers.get_by_label("Add by username").fill(other.username)
    workers.get_by_role("button", name="Add").click()
    workers.get_by_role("list", name="Workers").get_by_text(other.username).wait_for()
    browser.shot("02-project-settings")
    assert browser.axe() == []

    # The other user now sees the project; the API agrees.
    seen = requests.get(f"{server}/api/projects/", auth=(other.email, PASSWORD), headers={"Accept": "application/json"}, timeout=10).json()
    assert [p["name"] for p in seen["results"]] == ["Liber usualis 1961"]

    # The list shows it; reload keeps the session (token cookie), sign-out forgets it.
    page.get_by_role("link", name="Projects").first.click()
    page.locator("#table-projects").get_by_role("link", name="Liber usualis 1961").wait_for()
    browser.shot("03-projects")
    assert browser.axe() == []
    page.reload()
    page.locator("#table-projects").get_by_role("link", name="Liber usualis 1961").wait_for()

    # Preferences: the e-mail switch is stored as the user's preference.
    page.get_by_role("link", name="Preferences").click()
    switch = page.get_by_label("Send me an e-mail when my runs finish, fail or wait for my input")
    assert switch.is_checked()
    switch.uncheck()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    me = requests.get(f"{server}/api/auth/me/", headers={"Authorization": f"Token {key}", "Accept": "application/json"}, timeout=10).json()
    assert requests.get(me["user_preference"], headers={"Authorization": f"Token {key}", "Accept": "application/json"}, timeout=10).json()["send_email"] is False
    # A mistyped or stale project address is a sentence, whatever the id looks like.
    for address in ("/projects/not-a-project/resources", "/projects/0f8fad5b-d9cb-469f-a165-70867728950e/workflows"):
        page.goto(server + address)
        page.get_by_role("alert").filter(has_text="This project no longer exists, or you cannot see it.").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to Rodan").wait_for()
    assert requests.get(f"{server}/api/auth/me/", headers={"Authorization": f"Token {key}", "Accept": "application/json"}, timeout=10).status_code == 401

    # Deleting a project asks first, then goes back to the list.
    browser.sign_in(user.email, PASSWORD)
    page.locator("#table-projects").get_by_role("link", name="Liber usualis 1961").click()
    page.get_by_role("link", name="Settings and members").click()
    page.get_by_role("button", name="Delete project…").click()
    page.get_by_role("button", name="Yes, delete “Liber usualis 1961”").click()
    page.get_by_text("No projects yet.").wait_for()
    assert browser.errors == []
    assert browser.foreign_requests() == []


def test_register_and_password_reset_pages(server, session):
    browser = session(server)
    page = browser.page
    page.goto(server + "/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("neumes")
    page.get_by_label("Email").fill("neumes@example.org")
    page.get_by_label("Password").fill("a long enough password 123")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("status").filter(has_text="We sent an e-mail to neumes@example.org").wait_for()
    browser.shot("04-registered")
    # Registering again with the same name is refused with the API's reason, as a sentence.
    page.goto(server + "/register")
    page.get_by_label("Username").fill("neumes")
    page.get_by_label("Email").fill("other@example.org")
    page.get_by_label("Password").fill("a long enough password 123")
    page.get_by_role("button", name="Create account").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "username" in alert.inner_text().lower()
    assert "{" not in alert.inner_text()
    # An inactive account cannot sign in; the reason is shown.
    page.goto(server + "/")
    page.get_by_label("Email").fill("neumes@example.org")
    page.get_by_label("Password").fill("a long enough password 123")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Account is not activated.").wait_for()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("neumes@example.org")
    page.get_by_role("button", name="Send the reset link").click()
    page.get_by_role("status").filter(has_text="will receive an e-mail").wait_for()
    assert browser.errors == []


def _drop_files(page, zone, paths):
    """Drag files onto ``zone`` with real drag events whose DataTransfer holds File objects of the files' bytes."""
    files = [{"name": os.path.basename(p), "data": base64.b64encode(open(p, "rb").read()).decode()} for p in paths]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name));
            }
            return transfer;
        }""",
        files,
    )
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(zone).to_have_class(re.compile(r"\bdragging\b"))  # the zone shows it will take the files
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(zone).not_to_have_class(re.compile(r"\bdragging\b"))


def test_resources_upload_type_filter_and_delete(server, session, tmp_path):
    user = make_user()
    api = {"Authorization": f"Token {user.auth_token.key}", "Accept": "application/json"}
    browser = session(server)
    page = browser.page
    browser.sign_in(user.email, PASSWORD)
    page.get_by_label("New project name").fill("Antiphoner")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Antiphoner").wait_for()

    files = [str(_png(tmp_path / f"folio {n}r.png", 40 * n)) for n in (1, 2, 3)]
    big = tmp_path / "scan too big.tif"
    big.write_bytes(os.urandom(1536 * 1024))
    # Dropped, as a file manager drops them: dragenter, dragover, drop, with the files in a DataTransfer.
    _drop_files(page, page.locator(".dropzone"), [*files, str(big)])
    uploads = page.get_by_role("list", name="Uploads")
    for n in (1, 2, 3):
        uploads.locator("li", has_text=f"folio {n}r.png").get_by_text("Uploaded").wait_for()
    refused = uploads.locator("li", has_text="scan too big.tif").get_by_role("alert")
    refused.wait_for()
    assert "upload limit" in refused.inner_text() or "too large" in refused.inner_text()
    table = page.locator("#table-resources")
    for n in (1, 2, 3):
        table.locator(f"tr[data-resource='folio {n}r']").wait_for()
    assert table.locator("tr[data-resource='scan too big']").count() == 0
    # Each page image shows its thumbnail, fetched lazily, with a text alternative.
    for n in (1, 2, 3):
        thumbnail = table.locator(f"tr[data-resource='folio {n}r'] img")
        thumbnail.wait_for(timeout=30_000)  # once identification made it an image
        assert thumbnail.get_attribute("alt") == f"Thumbnail of folio {n}r"
        assert thumbnail.get_attribute("loading") == "lazy"
        assert "/thumbnail/small/" in thumbnail.get_attribute("src")
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
        assert thumbnail.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [90, 120]
    browser.shot("05-resources-uploaded")
    assert browser.axe() == []

    # The detected type is shown, and can be changed.
    select = page.get_by_label("Type of folio 1r")
    assert "RGB PNG image" in select.locator("option:checked").inner_text()
    select.select_option(label="Greyscale PNG image (image/greyscale+png)")
    page.wait_for_function(
        "() => document.querySelector(\"select[aria-label='Type of folio 1r'] option:checked\").textContent.includes('greyscale')"
    )
    listed = requests.get(f"{server}/api/resources/?name=folio 1r", headers=api, timeout=10).json()["results"]
    assert requests.get(listed[0]["resource_type"], headers=api, timeout=10).json()["mimetype"] == "image/greyscale+png"

    # Labels: typed as a list, stored, and offered as a filter.
    page.get_by_label("Labels of folio 2r").fill("recto, Kyrie")
    page.keyboard.press("Enter")
    label_filter = page.locator(".filters label", has_text=re.compile("^Label")).locator("select")
    label_filter.locator("option", has_text="Kyrie").wait_for(state="attached")
    label_filter.select_option(label="Kyrie")
    page.wait_for_function("() => [...document.querySelectorAll('#table-resources tbody tr')].map(r => r.dataset.resource).join() === 'folio 2r'")
    assert page.get_by_label("Labels of folio 2r").input_value() in ("recto, Kyrie", "Kyrie, recto")
    label_filter.select_option(label="Any label")

    # Filter by name and sort by name.
    page.get_by_label("Name contains").fill("2r")
    page.wait_for_function("() => document.querySelectorAll('#table-resources tbody tr').length === 1")
    page.get_by_label("Name contains").fill("")
    page.get_by_label("Sort by").select_option(label="Name Z–A")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#table-resources tbody tr')].map(r => r.dataset.resource).join() === 'folio 3r,folio 2r,folio 1r'"
    )

    # Download saves the file under its name and extension.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download folio 3r").click()
    assert download.value.suggested_filename == "folio 3r.png"
    assert Image.open(io.BytesIO(open(download.value.path(), "rb").read())).size == (90, 120)

    # Delete asks first.
    page.get_by_role("button", name="Delete folio 2r").click()
    page.get_by_role("button", name="Confirm delete").click()
    page.wait_for_function("() => !document.querySelector(\"tr[data-resource='folio 2r']\")")
    assert browser.errors == [], browser.errors
    assert browser.foreign_requests() == []


def test_workflow_library_settings_form_and_export(server, session):
    user = make_user()
    auth = (user.email, PASSWORD)
    project = requests.post(f"{server}/api/projects/", json={"name": "Editing"}, auth=auth, headers={"Accept": "application/json"}, timeout=10).json()
    browser = session(server)
    page = browser.page
    browser.sign_in(user.email, PASSWORD)
    page.goto(f"{server}/projects/{project['uuid']}/workflows")
    page.get_by_role("button", name="Binarize", exact=True).click()
    page.get_by_text("The workflow is valid: you can run it.").wait_for()
    assert page.locator(".react-flow__node").count() == 2
    assert page.locator(".react-flow__edge").count() == 1

    # The settings form comes from the job's schema: defaults filled, bounds enforced before saving.
    page.locator(".react-flow__node", has_text="Sauvola Threshold").click()
    panel = page.get_by_role("complementary", name="Job Sauvola Threshold")
    panel.get_by_label("Region size").wait_for()

    # Ports connect without a mouse too: disconnect, then connect from the panel's list of accepted outputs.
    panel.get_by_role("button", name="Disconnect Greyscale PNG image from To greyscale PNG: Greyscale PNG image").click()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length === 0")
    source = panel.get_by_label("Connect Greyscale PNG image from")
    assert source.locator("option").all_inner_texts() == ["Connect from…", "To greyscale PNG: Greyscale PNG image"]
    source.select_option(label="To greyscale PNG: Greyscale PNG image")
    page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length === 1")
    assert panel.get_by_label("Region size").input_value() == "15"
    panel.get_by_label("Dynamic range").fill("999")
    panel.get_by_role("button", name="Save settings").click()
    panel.locator(".error-detail").filter(has_text="255").wait_for()
    panel.get_by_role("alert").filter(has_text="Not saved").wait_for()
    browser.shot("14-editor-settings-error")
    assert browser.axe() == []
    panel.get_by_label("Dynamic range").fill("200")
    panel.get_by_role("button", name="Save settings").click()
    panel.get_by_role("status").filter(has_text="Saved.").wait_for()
    workflow_url = requests.get(f"{server}/api/workflows/?project={project['uuid']}", auth=auth, headers={"Accept": "application/json"}, timeout=10).json()["results"][0]["url"]
    detail = requests.get(workflow_url, auth=auth, headers={"Accept": "application/json"}, timeout=10).json()
    sauvola = next(wj for wj in detail["workflow_jobs"] if wj["job_name"] == "Sauvola Threshold")
    assert sauvola["job_settings"]["Dynamic range"] == 200
    assert detail["valid"] is False  # changed settings invalidate; the page says so
    page.get_by_text("Not validated yet").wait_for()

    # Export gives Rodan's workflow file with the new setting.
    with page.expect_download() as exported:
        page.get_by_role("button", name="Export workflow file").click()
    document = json.loads(open(exported.value.path()).read())
    assert document["__version__"] == 0.2
    assert [job["job_settings"].get("Dynamic range") for job in document["workflow_jobs"] if job["job_name"] == "Sauvola Threshold"] == [200]

    # Without its output port, validation marks the job itself, in a sentence.
    panel.get_by_role("button", name="Remove port Onebit PNG image").click()
    panel.get_by_role("button", name="Add output “Onebit PNG image”").wait_for()
    page.get_by_role("button", name="Validate").click()
    marked = page.locator(".job-node.has-error", has_text="Sauvola Threshold")
    marked.wait_for()
    assert "output" in marked.locator(".job-node-error").inner_text().lower()

    # A job is removed with the Delete key.
    page.locator(".react-flow__node", has_text="To greyscale PNG").click()
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node').length === 1")
    browser.shot("15-editor-job-error")
    assert browser.errors == [], browser.errors
