"""Saved work and the edit lock of interactive pages (rodan.interactive_work) over the working URL.

A real waiting RunJob (the interactive hello job on a worker), two "tabs"
(editor ids) of its working user, saves, stale saves, take-over, bad bodies,
and the work cleared by an accepted submission.
"""

import pytest
import requests
from builders import chain_document, make_project, run_over, upload, valid_workflow, wait_for, wait_run

from rodan import interactive_work
from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

JSON = {"Accept": "application/json"}


@pytest.fixture
def waiting(start_worker, live_server):
    """(run, run_job, working URL) of a hello job waiting for its user."""
    project = make_project()
    workflow = valid_workflow(project, chain_document([{}], job_name="Hello World - Interactive"))
    start_worker()
    run = run_over(workflow, [upload(project, "x", name="page")])
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       what="the job to wait")
    acquired = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/",
                             auth=(project.creator.email, "pw"), headers=JSON, timeout=10)
    assert acquired.status_code == 200, acquired.text
    run_job.refresh_from_db()
    return run, run_job, acquired.json()["working_url"]


def test_saves_versions_lock_and_take_over(waiting):
    run, run_job, url = waiting
    work = url + "work/"
    assert requests.get(work, timeout=10).json() == {"version": 0, "saved": None, "work": None}
    assert requests.put(work, json={"editor": "tab-a", "version": 0}, timeout=10).json() == {"version": 0}

    first = requests.put(work, json={"editor": "tab-a", "version": 0, "work": {"ops": [1, 2]}}, timeout=10)
    assert first.status_code == 200 and first.json()["version"] == 1
    loaded = requests.get(work, timeout=10).json()
    assert loaded["version"] == 1 and loaded["work"] == {"ops": [1, 2]} and loaded["saved"].endswith("Z")

    # A second tab of the same user is refused while the first holds the lock...
    second = requests.put(work, json={"editor": "tab-b", "version": 1, "work": {"ops": []}}, timeout=10)
    assert second.status_code == 409 and "another tab or window" in second.json()["message"]
    claim = requests.put(work, json={"editor": "tab-b", "version": 1}, timeout=10)
    assert claim.status_code == 409
    # ...until it takes over; then the first tab's saves are refused.
    taken = requests.put(work, json={"editor": "tab-b", "version": 1, "work": {"ops": [3]}, "take_over": True},
                         timeout=10)
    assert taken.status_code == 200 and taken.json()["version"] == 2
    refused = requests.put(work, json={"editor": "tab-a", "version": 1, "work": {"ops": [9]}}, timeout=10)
    assert refused.status_code == 409 and "another tab" in refused.json()["message"]
    # A stale tab that takes back the lock still cannot overwrite newer work.
    stale = requests.put(work, json={"editor": "tab-a", "version": 1, "work": {"ops": [9]}, "take_over": True},
                         timeout=10)
    assert stale.status_code == 409 and "has changed since this page loaded it" in stale.json()["message"]
    assert stale.json()["version"] == 2
    assert requests.get(work, timeout=10).json()["work"] == {"ops": [3]}

    # A page that keeps a log of edits sends only the new ones.
    replaced = requests.put(work, json={"editor": "tab-b", "version": 2, "work": {"log": [{"a": 1}]}}, timeout=10)
    assert replaced.json()["version"] == 3
    appended = requests.put(work, json={"editor": "tab-b", "version": 3, "append": [{"a": 2}, {"a": 3}]}, timeout=10)
    assert appended.status_code == 200 and appended.json()["version"] == 4
    assert requests.get(work, timeout=10).json()["work"] == {"log": [{"a": 1}, {"a": 2}, {"a": 3}]}

    # The lock belongs to the working user: a lease given under another one counts for nothing.
    run_job.working_user_id = None
    assert interactive_work.claim(run_job, "tab-c") == 4


BAD = [
    (b"{not json", 400, "Could not read"),
    (b"[1]", 400, "Send {"),
    (b'{"version": 0, "work": {}}', 400, '"editor" must be'),
    (b'{"editor": "a", "version": "1", "work": {}}', 400, '"version" must be'),
    (b'{"editor": "a", "version": 0, "work": [1]}', 400, '"work" must be a JSON object'),
    (b'{"editor": "a", "version": 0, "append": {}}', 400, '"append" must be a list'),
    (b'{"editor": "a", "version": 0, "work": {}, "append": []}', 400, 'Send either'),
    (b'{"editor": "a", "version": 0, "append": ["' + b"y" * (8 * 1024 * 1024) + b'"]}', 413, "at most"),
    (b'{"editor": "a", "version": 0, "work": {"x": "' + b"y" * (8 * 1024 * 1024) + b'"}}', 413, "at most"),
]


def test_bad_saves_get_sentences_and_submission_clears_the_work(waiting):
    run, run_job, url = waiting
    work = url + "work/"
    for body, status, sentence in BAD:
        response = requests.put(work, data=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == status and sentence in response.json()["message"], (body[:60], response.text)
    assert requests.post(work, json={}, timeout=10).status_code == 405
    forged = requests.get(work.replace(url.rstrip("/").rsplit("/", 1)[1], "0" * 32), timeout=10)
    assert forged.status_code == 401
    assert requests.put(work, json={"editor": "a", "version": 0, "work": {"n": 1}}, timeout=10).status_code == 200
    assert interactive_work.load(run_job)["version"] == 1

    assert requests.post(url, json={"name": "Ada"}, timeout=10).status_code == 200
    assert interactive_work.load(run_job) == {"version": 0, "saved": None, "work": None}
    wait_run(run, {RunStatus.FINISHED})
    assert requests.get(work, timeout=10).status_code == 401  # the token went with the submission
