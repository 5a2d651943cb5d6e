"""The project event stream on the real ASGI server: order, resume, current state, auth, many clients.

Events are appended with ``rodan.engine.events.record`` as the engine does,
from this test process, and read back through ``rodan serve`` (uvicorn).
"""

import json
import queue
import socket
import threading
import time
import uuid

import pytest
import requests
from api_clients import make_user
from builders import STEP, chain_document, make_project, run_over, upload, valid_workflow, wait_for

from rodan.engine import events
from rodan.models import Event, Project, RunJob
from browser import CHROMIUM, CHROMIUM_ARGS


class Stream:
    """One SSE connection read in a thread; messages land in ``self.messages`` as (id, event, data)."""

    def __init__(self, url, token=None, last_event_id=None, cookies=None):
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(url, headers=headers, cookies=cookies, stream=True, timeout=30)
        self.socket = self.response.raw._connection.sock
        self.messages = queue.Queue()
        self.comments = []
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        fields = {}
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith(":"):
                    self.comments.append(line)
                elif line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                elif "data" in fields:
                    self.messages.put((int(fields["id"]), fields["event"], json.loads(fields["data"])))
                    fields = {}
                else:
                    fields = {}
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed by the test

    def take(self, count, timeout=10):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            try:
                got.append(self.messages.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"got {len(got)} of {count} messages: {got}") from None
        return got

    def quiet(self, seconds=1.0):
        """Nothing more arrives within ``seconds``."""
        try:
            extra = self.messages.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected message {extra}")

    def close(self):
        """Hang up at once (closing the response itself would wait for the reading thread)."""
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.response.close()


def open_streams(base):
    return requests.get(f"{base}/api/ht/", timeout=10).json()["event_streams"]


def wait_streams(base, count):
    wait_for(lambda: open_streams(base) == count, timeout=15, what=f"{count} open streams", interval=0.05)


@pytest.fixture
def watcher():
    """A user with a project (and the project's events URL builder)."""
    user = make_user()
    project = Project.objects.create(name="watched", creator=user)
    return user, project


def events_url(base, project):
    return f"{base}/api/project/{project.pk}/events/"


def run_job_event(project, run_uuid, status, name="Job"):
    return events.record("runjob", uuid.uuid4(), project.pk, status, "oops" if status == -1 else "",
                         workflow_run=run_uuid.hex, job_name=name)


def test_live_events_arrive_in_order_once_each_with_every_kind(live_server, watcher):
    user, project = watcher
    stream = Stream(events_url(live_server, project), user.auth_token.key)
    assert stream.response.status_code == 200
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    wait_streams(live_server, 1)
    other = Project.objects.create(name="elsewhere", creator=user)
    run = uuid.uuid4()
    recorded = []
    for index in range(20):
        recorded.append(run_job_event(project, run, index % 3))
        events.record("runjob", uuid.uuid4(), other.pk, 1, workflow_run=run.hex, job_name="Other")
    recorded.append(events.record("workflowrun", run, project.pk, 4))
    recorded.append(events.record("resource", uuid.uuid4(), project.pk, None, name="page1", resource_type="image/rgb+png"))
    recorded.append(events.record("resultspackage", uuid.uuid4(), project.pk, 4, workflow_run=run.hex, percent_completed=100))
    got = stream.take(len(recorded))
    stream.quiet()
    stream.close()
    assert [(i, kind) for i, kind, _ in got] == [(e.id, e.kind) for e in recorded]
    first = got[0][2]
    assert first == {
        "url": f"{live_server}/api/runjob/{recorded[0].object_uuid}/",
        "uuid": recorded[0].object_uuid.hex,
        "workflow_run": f"{live_server}/api/workflowrun/{run}/",
        "job_name": "Job",
        "status": 0,
        "error_summary": "",
    }
    assert got[20][2] == {"url": f"{live_server}/api/workflowrun/{run}/", "uuid": run.hex, "status": 4}
    assert got[21][2]["name"] == "page1" and got[21][2]["resource_type"] == "image/rgb+png" and got[21][2]["status"] is None
    assert got[22][2]["percent_completed"] == 100 and got[22][2]["workflow_run"].endswith(f"/{run}/")


def test_reconnecting_with_last_event_id_misses_nothing_and_repeats_nothing(live_server, watcher):
    """Events appended at a steady pace while the client drops and reconnects five times."""
    user, project = watcher
    run = uuid.uuid4()
    base_id = events.record("workflowrun", run, project.pk, 1).id
    recorded, done = [], threading.Event()

    def append():
        for index in range(60):
            recorded.append(run_job_event(project, run, 4, f"job {index}").id)
            time.sleep(0.03)
        done.set()

    writer = threading.Thread(target=append)
    writer.start()
    seen, last = [], base_id
    for attempt in range(5):
        # the query parameter works as the header does (a client that builds its own URL)
        if attempt % 2:
            stream = Stream(f"{events_url(live_server, project)}?lastEventId={last}", user.auth_token.key)
        else:
            stream = Stream(events_url(live_server, project), user.auth_token.key, last_event_id=last)
        for event_id, _, _ in stream.take(5, timeout=15):
            seen.append(event_id)
            last = event_id
        stream.close()
    writer.join()
    stream = Stream(events_url(live_server, project), user.auth_token.key, last_event_id=last)
    while len(seen) < len(recorded):
        seen.append(stream.take(1)[0][0])
    stream.quiet(0.5)
    stream.close()
    assert seen == recorded


def test_stale_or_missing_last_event_id_starts_with_the_current_state(live_server, watcher):
    user, project = watcher
    pages = make_project()
    workflow = valid_workflow(pages, chain_document([{"Tag": "a"}, {"Tag": "b"}]))
    run = run_over(workflow, [upload(pages, "x", "p1"), upload(pages, "y", "p2")])
    pages.creator = user
    pages.save()
    for _ in range(3):
        events.record("workflowrun", uuid.uuid4(), project.pk, 1)
    newest = events.last_id()
    Event.objects.filter(id__lt=newest).delete()  # the log was pruned: event 1 is long gone
    run_jobs = {rj.uuid.hex: rj for rj in RunJob.objects.filter(workflow_run=run)}
    assert len(run_jobs) == 4
    for last_event_id in (1, None):
        stream = Stream(events_url(live_server, pages), user.auth_token.key, last_event_id=last_event_id)
        got = stream.take(5)
        stream.close()
        assert [kind for _, kind, _ in got] == ["runjob"] * 4 + ["workflowrun"]  # RunJobs first, then runs
        assert len({event_id for event_id, _, _ in got}) == 1  # each with the id the stream resumes from
        assert {payload["uuid"]: payload["status"] for _, kind, payload in got if kind == "runjob"} == {
            key: rj.status for key, rj in run_jobs.items()
        }
        assert {payload["job_name"] for _, _, payload in got[:4]} == {STEP}
        assert got[4][2]["uuid"] == run.uuid.hex


def test_outsiders_get_404_and_bad_credentials_401_as_json(live_server, watcher):
    user, project = watcher
    url = events_url(live_server, project)
    outsider = make_user()
    response = requests.get(url, headers={"Authorization": f"Token {outsider.auth_token.key}"}, timeout=10)
    assert response.status_code == 404 and response.json() == {"detail": "No Project matches the given query."}
    missing = requests.get(events_url(live_server, Project(pk=uuid.uuid4())), headers={"Authorization": f"Token {user.auth_token.key}"}, timeout=10)
    assert missing.status_code == 404
    bad = requests.get(url, headers={"Authorization": "Token nonsense"}, timeout=10)
    assert bad.status_code == 401 and bad.json() == {"detail": "Invalid token."}
    assert bad.headers["WWW-Authenticate"] == 'Basic realm="api"'
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401 and "detail" in anonymous.json()
    wrong_password = requests.get(url, auth=(user.email, "wrong"), timeout=10)
    assert wrong_password.status_code == 401
    cookie = Stream(url, cookies={"token": user.auth_token.key})  # as a browser's EventSource sends it
    assert cookie.response.status_code == 200
    cookie.close()
    assert open_streams(live_server) == 0 or wait_streams(live_server, 0) is None


def test_a_client_that_disconnects_is_forgotten_at_once(live_server, watcher):
    user, project = watcher
    streams = [Stream(events_url(live_server, project), user.auth_token.key) for _ in range(3)]
    wait_streams(live_server, 3)
    streams[0].close()
    wait_streams(live_server, 2)
    for stream in streams[1:]:
        stream.close()
    started = time.monotonic()
    wait_streams(live_server, 0)
    assert time.monotonic() - started < 5


def test_fifty_streams_while_the_api_answers(live_server, watcher):
    user, project = watcher
    streams = [Stream(events_url(live_server, project), user.auth_token.key) for _ in range(50)]
    wait_streams(live_server, 50)
    api = requests.Session()
    api.headers.update({"Authorization": f"Token {user.auth_token.key}", "Accept": "application/json"})
    timings = []
    for _ in range(20):
        started = time.monotonic()
        assert api.get(f"{live_server}/api/projects/", timeout=10).status_code == 200
        timings.append(time.monotonic() - started)
    event = events.record("workflowrun", uuid.uuid4(), project.pk, 4)
    for stream in streams:
        assert [m[0] for m in stream.take(1)] == [event.id]
        stream.close()
    assert sorted(timings)[len(timings) // 2] < 1.0, timings
    wait_streams(live_server, 0)


WATCH = """url => {
    window.received = [];
    window.opened = 0;
    const source = new EventSource(url);
    source.onopen = () => { window.opened += 1; };
    for (const kind of ["runjob", "workflowrun"]) {
        source.addEventListener(kind, e => window.received.push([Number(e.lastEventId), kind, JSON.parse(e.data).status]));
    }
}"""


@pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")
def test_a_browser_follows_a_run_through_a_server_restart(processes, watcher):
    """EventSource reconnects to the restarted server with Last-Event-ID; nothing is missed or doubled."""
    import sys

    from playwright.sync_api import sync_playwright
    from rodan_fixtures import free_port

    user, project = watcher
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "rodan.cli", "serve", "--port", str(port)]
    server = processes.start("web", serve, ready_text="Uvicorn running on")
    run = uuid.uuid4()
    recorded = []

    def progress(count, finish=False):
        """The run's RunJobs move on (in a thread: Playwright's loop forbids the ORM in this one)."""

        def append():
            for index in range(count):
                recorded.append(run_job_event(project, run, (0, 1, 4)[index % 3], f"job {index // 3}").id)
                time.sleep(0.05)
            if finish:
                recorded.append(events.record("workflowrun", run, project.pk, 4).id)

        thread = threading.Thread(target=append)
        thread.start()
        thread.join()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context()
        context.add_cookies([{"name": "token", "value": user.auth_token.key, "url": base}])
        page = context.new_page()
        page.goto(f"{base}/api/ht/")
        page.evaluate(WATCH, events_url(base, project))
        wait_streams(base, 1)
        progress(30)
        page.wait_for_function("window.received.length >= 10")
        server.kill()  # the server dies mid-stream, as on a crash or a redeploy
        server.wait()
        progress(30)  # the run goes on while the browser has no server
        processes.start("web-again", serve, ready_text="Uvicorn running on")
        progress(30, finish=True)
        page.wait_for_function(f"window.received.length >= {len(recorded)}", timeout=30000)
        time.sleep(1)
        received = page.evaluate("window.received")
        opened = page.evaluate("window.opened")
        browser.close()
    assert [event_id for event_id, _, _ in received] == recorded
    assert received[-1][1:] == ["workflowrun", 4]
    assert opened >= 2  # it did reconnect
