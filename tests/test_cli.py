"""The ``rodan`` command as a user runs it: batch runs, the one-command stack, errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from builders import chain_document
from PIL import Image
from rodan_fixtures import free_port

from rodan.identify import identify

pytestmark = pytest.mark.engine

GREY_THEN_ONEBIT = chain_document(
    [{}, {}],
    ["To greyscale PNG", "To one-bit PNG"],
    "Image",
    ["Greyscale PNG image", "One-bit PNG image"],
    name="binarize",
)


def _embedded_env(**extra):
    """The environment of a user on a fresh machine: no server URLs, only our test job settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "RODAN_DATA_DIR")}
    env.update(extra)
    return env


def _rodan(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "rodan.cli", *args], capture_output=True, text=True, env=env or _embedded_env(), timeout=timeout
    )


def _pages(folder, count, size=(120, 90)):
    paths = []
    rng = np.random.default_rng(7)
    for index in range(count):
        pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
        pixels[:, : size[0] // 2] = 20  # a dark half, so Otsu has two classes
        path = folder / f"folio{index + 1:03d}.jpg"
        Image.fromarray(pixels).save(path, quality=95)
        paths.append(path)
    return paths


@pytest.fixture
def workflow_file(tmp_path):
    path = tmp_path / "binarize.json"
    path.write_text(json.dumps(GREY_THEN_ONEBIT))
    return path


def test_rodan_run_binarizes_pages_on_embedded_workers(tmp_path, workflow_file):
    pages = _pages(tmp_path, 4)
    out = tmp_path / "out"
    result = _rodan("run", str(workflow_file), *map(str, pages), "-o", str(out), "--workers", "2", "--data", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    written = sorted(out.rglob("*.png"))
    assert [p.relative_to(out).as_posix() for p in written] == [
        f"folio{i:03d}/To one-bit PNG - One-bit PNG image.png" for i in range(1, 5)
    ]
    for path in written:
        assert identify(path) == "image/onebit+png"
        with Image.open(path) as image:
            pixels = np.array(image)
        assert image.size == (120, 90) and not pixels[:, :60].any()  # the dark half is black


@pytest.mark.parametrize(
    "problem, expected",
    [
        ("not json", "not JSON"),
        ("missing page", "no such file"),
        ("unknown job", "Job No Such Job does not exist"),
        ("corrupt page", '"To greyscale PNG" failed on folio001'),
        ("interactive", "interactive jobs"),
    ],
)
def test_rodan_run_reports_bad_input_in_one_line(tmp_path, workflow_file, problem, expected):
    pages = _pages(tmp_path, 1)
    doc = json.loads(workflow_file.read_text())
    if problem == "not json":
        workflow_file.write_text("{not json")
    elif problem == "missing page":
        pages = [tmp_path / "nowhere.png"]
    elif problem == "unknown job":
        doc["workflow_jobs"][0]["job_name"] = "No Such Job"
        workflow_file.write_text(json.dumps(doc))
    elif problem == "corrupt page":
        pages[0].write_bytes(pages[0].read_bytes()[:200])  # a truncated JPEG
    elif problem == "interactive":
        doc = {**doc, "workflow_jobs": [{**doc["workflow_jobs"][0], "job_name": "Hello World - Interactive",
               "input_ports": [], "output_ports": [{"label": "Text output", "type": "Text output", "id": 2}]}], "connections": []}
        workflow_file.write_text(json.dumps(doc))
    result = _rodan("run", str(workflow_file), *map(str, pages), "-o", str(tmp_path / "out"), "--workers", "1")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rodan: error: "), result.stderr
    assert expected in lines[0]
    assert not list((tmp_path / "out").rglob("*.png")) if (tmp_path / "out").exists() else True


@pytest.mark.services
def test_rodan_run_uses_running_workers_in_production_mode(tmp_path, workflow_file, start_worker):
    """With DATABASE_URL and CELERY_BROKER_URL set, ``rodan run`` starts no workers of its own."""
    start_worker()
    pages = _pages(tmp_path, 2)
    result = _rodan("run", str(workflow_file), *map(str, pages), "-o", str(tmp_path / "out"), env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").rglob("*.png"))) == 2


def _children(pid):
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def test_rodan_up_serves_health_restarts_what_dies_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = free_port()
    env = _embedded_env(ADMIN_USER="boss", ADMIN_EMAIL="boss@example.org", ADMIN_PASS="secret")
    process = subprocess.Popen(
        [sys.executable, "-m", "rodan.cli", "up", "--data", str(tmp_path / "data"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/ht/", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "rodan up did not serve within 60 s"
                time.sleep(0.5)
        assert health.status_code == 200
        assert health.json()["status"] == "ok" and health.json()["jobs"] >= 4
        logs = tmp_path / "data" / "logs"
        deadline = time.monotonic() + 60
        while " ready." not in (logs / "worker1.log").read_text(errors="replace"):
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.5)
        assert "scheduler: reaping" in (logs / "scheduler.log").read_text()

        for pid in _children(process.pid):  # a worker or scheduler that dies is started again
            if "celery" in _command_line(pid) or "scheduler" in _command_line(pid):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (logs / "worker1.log").read_text(errors="replace").count(" ready.") < 2 or (
            (logs / "scheduler.log").read_text().count("scheduler: reaping") < 2
        ):
            assert time.monotonic() < deadline, "the killed worker and scheduler were not started again"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        try:  # children get SIGTERM, then SIGKILL after the 30 s grace: bounded, with room for a loaded machine
            stdout, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            logs = "".join(f"\n--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in (tmp_path / "data" / "logs").glob("*.log"))
            pytest.fail(f"rodan up did not stop within 120 s of Ctrl-C{logs}")
    assert process.returncode == 0, stderr
    assert "Created admin user boss." in stdout and "Stopped." in stdout
    assert "the worker1 process stopped (exit -9); starting it again" in stdout
    assert "Traceback" not in stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/ht/", timeout=2)


def test_one_bad_page_does_not_stop_the_others(tmp_path, workflow_file):
    pages = _pages(tmp_path, 3)
    pages[1].write_bytes(pages[1].read_bytes()[:300])  # a truncated JPEG: identified, but unreadable
    out = tmp_path / "out"
    result = _rodan("run", str(workflow_file), *map(str, pages), "-o", str(out), "--workers", "2")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert '"To greyscale PNG" failed on folio002' in result.stderr
    assert "(2 finished outputs written to" in result.stderr
    assert sorted(p.parent.name for p in out.rglob("*.png")) == ["folio001", "folio003"]


def test_a_file_of_the_wrong_type_is_named(tmp_path, workflow_file):
    pages = _pages(tmp_path, 2)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a page")
    result = _rodan("run", str(workflow_file), str(pages[0]), str(notes), "-o", str(tmp_path / "out"), "--workers", "1")
    assert result.returncode == 1
    assert result.stderr == (
        "rodan: error: the pages do not fit the workflow: notes: The resource type text/plain does not match the InputPort\n"
    )
