"""The monitoring page in a real browser: a staff user sees the queues and the job a real worker runs;
others get no link and a sentence.
"""

import pytest
import requests
from api_clients import PASSWORD, make_user
from builders import chain_document, run_over, step_settings, upload, valid_workflow, wait_for

from rodan.models import Project

pytestmark = pytest.mark.engine
JSON = {"Accept": "application/json"}


def test_staff_see_queues_and_the_running_job(live_server, start_worker, session, tmp_path):
    admin = make_user(is_staff=True)
    member = make_user()
    project = Project.objects.create(name="watched", creator=member)
    ledger = tmp_path / "ledger"
    workflow = valid_workflow(project, chain_document([step_settings("slow", Sleep=60, Ledger=str(ledger))]))
    start_worker()
    run = run_over(workflow, [upload(project, "p", name="p")])
    wait_for(ledger.exists, 60, "the slow job to start")

    # Others: no link in the top bar, and a sentence at the address.
    browser = session(live_server)
    page = browser.page
    browser.sign_in(member.email, PASSWORD)
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Monitoring").count() == 0
    page.goto(live_server + "/monitoring")
    page.get_by_role("alert").filter(has_text="Only staff users can see the monitoring page.").wait_for()

    staff = session(live_server)
    page = staff.page
    staff.sign_in(admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Monitoring").click()
    page.get_by_role("heading", name="Queues").wait_for()
    queues = page.locator("#table-queues")
    for name in ("celery", "Python3", "GPU"):
        row = queues.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))
        assert row.count() == 1, name
        assert row.locator("td").inner_text().strip().isdigit() or "Unknown" in row.locator("td").inner_text()
    workers = page.locator("#table-workers")
    job = workers.get_by_role("link", name="Test - Text step")
    job.wait_for()
    assert job.get_attribute("href") == f"/runs/{run.uuid}"
    assert "Answering" in workers.inner_text()
    assert "Running: 1" in page.locator("#runjob-counts").inner_text()
    staff.shot("30-monitoring")
    assert staff.axe() == []

    # Refreshed by itself: once the run is cancelled (through the API: the ORM is not for Playwright's thread),
    # the job leaves the page without a reload.
    cancelled = requests.patch(
        f"{live_server}/api/workflowrun/{run.uuid}/", json={"status": 29}, auth=(member.email, PASSWORD), headers=JSON, timeout=10
    )
    assert cancelled.status_code == 200, cancelled.text
    page.get_by_text("No worker is running a job at the moment.").wait_for(timeout=30_000)
    # By keyboard: the refresh controls are buttons in the tab order.
    page.get_by_role("button", name="Pause automatic refresh").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Resume automatic refresh").wait_for()
    assert browser.errors == [] and staff.errors == [], (browser.errors, staff.errors)
