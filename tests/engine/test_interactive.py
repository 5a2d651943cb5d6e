"""The interactive path end to end: wait for input, acquire, page, submit, resume."""

import os

import pytest
import requests
from builders import chain_document, make_project, output_texts, run_over, upload, valid_workflow, wait_for, wait_run

from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus
from browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.engine

HELLO = "Hello World - Interactive"
#: What the Rodan client sends; without it the API answers with its browsable HTML (rodan-compat.md §1).
JSON = {"Accept": "application/json"}


def _waiting_run(project, start_worker):
    doc = chain_document([{}], job_name=HELLO)
    workflow = valid_workflow(project, doc)
    start_worker()
    run = run_over(workflow, [upload(project, "from the page", name="page")])
    run_job = wait_for(
        lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
        what="the job to wait for input",
    )
    return run, run_job


def _acquire(live_server, run_job, user):
    response = requests.post(
        f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(user.email, "pw"), headers=JSON, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["working_url"]


def test_waiting_job_frees_the_worker_and_resumes_on_a_valid_submission(start_worker, live_server):
    project = make_project()
    run, run_job = _waiting_run(project, start_worker)
    assert run_job.claimed_by == ""  # no worker is held while the job waits
    run.refresh_from_db()
    assert run.status == RunStatus.PROCESSING

    outsider = make_project().creator
    denied = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(outsider.email, "pw"), headers=JSON, timeout=10)
    assert denied.status_code == 404  # outsiders cannot even learn the RunJob exists

    working_url = _acquire(live_server, run_job, project.creator)
    page = requests.get(working_url, timeout=10)
    assert page.status_code == 200 and 'id="hello-form"' in page.text
    script = requests.get(working_url + "static/hello/hello.js", timeout=10)
    assert script.status_code == 200 and script.headers["Cache-Control"] == "private, no-cache"
    versioned = requests.get(working_url + "static/hello/hello.js?v=7", timeout=10)
    assert versioned.headers["Cache-Control"] == "private, max-age=31536000, immutable"  # the build names it
    assert requests.get(working_url + "static/../../hello.py", timeout=10).status_code == 404
    token = working_url.rstrip("/").rsplit("/", 1)[1]
    forged = requests.get(working_url.replace(token, "0" * 32), timeout=10)
    assert forged.status_code == 401 and forged.json() == {"message": "Permission denied"}

    rejected = requests.post(working_url, json={"name": ""}, timeout=10)
    assert rejected.status_code == 400 and "non-empty" in rejected.json()["detail"]
    run_job.refresh_from_db()
    assert run_job.status == RunJobStatus.WAITING_FOR_INPUT

    accepted = requests.post(working_url, json={"name": "Ada"}, timeout=10)
    assert accepted.status_code == 200
    wait_run(run, {RunStatus.FINISHED})
    assert output_texts(run) == {"Hello World - Interactive - Text output": "Hello Ada from the page"}
    run_job.refresh_from_db()
    assert run_job.job_settings == {"@name": "Ada"}
    assert requests.get(working_url, timeout=10).status_code == 401  # the submission released the token


def test_job_stays_locked_to_its_working_user(start_worker, live_server):
    project = make_project()
    other = make_project().creator
    project.workers.add(other)
    _, run_job = _waiting_run(project, start_worker)
    first = _acquire(live_server, run_job, project.creator)
    again = _acquire(live_server, run_job, project.creator)
    assert first == again  # the same user keeps the token
    response = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(other.email, "pw"), headers=JSON, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"message": "Previous working user has not expired yet."}




@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
def test_hello_page_in_a_real_browser(start_worker, live_server):
    from playwright.sync_api import sync_playwright

    project = make_project()
    run, run_job = _waiting_run(project, start_worker)
    working_url = _acquire(live_server, run_job, project.creator)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.goto(working_url)
        page.click("#submit")  # empty name: the browser's own validation keeps the form
        assert page.locator("#message").inner_text() == ""
        page.fill("#name", "x" * 101)  # maxlength in the page stops at 100
        assert len(page.input_value("#name")) == 100
        page.fill("#name", "Hildegard")
        page.click("#submit")
        page.wait_for_function("document.getElementById('message').textContent.includes('Submitted')")
        assert page.is_disabled("#submit")
        browser.close()
    wait_run(run, {RunStatus.FINISHED})
    assert output_texts(run) == {"Hello World - Interactive - Text output": "Hello Hildegard from the page"}
