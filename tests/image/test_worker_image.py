"""The built worker image, run with buildah against this machine's PostgreSQL and RabbitMQ.

Collected only when RODAN_TEST_IMAGE names an image (``.ci/run`` builds one and
sets it; see tests/conftest.py): a container of the image runs start-celery, consumes a real workflow run
submitted through the engine, and is stopped with SIGTERM in the middle of a job.
"""

import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from builders import (
    chain_document,
    make_project,
    output_texts,
    run_over,
    step_settings,
    upload,
    valid_workflow,
    wait_for,
    wait_run,
)
from PIL import Image

from rodan import storage
from rodan.identify import identify
from rodan.models import Job, RunJob
from rodan.models.status import RunStatus
from rodan.uploads import create_resource_from_path

pytestmark = [pytest.mark.engine, pytest.mark.services]

IMAGE = os.environ.get("RODAN_TEST_IMAGE", "")
SUPPORT = Path(__file__).resolve().parents[1] / "support"
BUILDAH_ENV = {**os.environ, "STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}


@pytest.fixture
def container(data_dir, tmp_path):
    """A function starting start-celery in a fresh container of the image; stopped at teardown."""
    started = []

    def start(queue, grace=600, test_jobs=False):
        name = subprocess.run(
            ["buildah", "from", IMAGE], env=BUILDAH_ENV, capture_output=True, text=True, check=True
        ).stdout.strip()
        subprocess.run(["chmod", "-R", "a+rwX", str(data_dir)], check=True)  # the image runs as uid 1000
        env = {
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
            "CELERY_JOB_QUEUE": queue,
            "SHUTDOWN_GRACE": str(grace),
            "RODAN_HEARTBEAT_INTERVAL": os.environ["RODAN_HEARTBEAT_INTERVAL"],
            "RODAN_HEARTBEAT_TIMEOUT": os.environ["RODAN_HEARTBEAT_TIMEOUT"],
        }
        command = ["buildah", "run", "--volume", f"{data_dir}:/data"]
        if test_jobs:  # the test-only job package, mounted read-only
            command += ["--volume", f"{SUPPORT}:/testsupport:ro"]
            env.update(PYTHONPATH="/testsupport", RODAN_JOB_PACKAGES="rodan_testjobs")
        for key, value in env.items():
            command += ["--env", f"{key}={value}"]
        log = open(tmp_path / f"container-{name}.log", "w")
        process = subprocess.Popen(
            [*command, name, "--", "/usr/local/bin/start-celery"],
            env=BUILDAH_ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path, process.container = tmp_path / f"container-{name}.log", name
        started.append(process)
        wait_for(lambda: " ready." in process.log_path.read_text(), 120, f"the container worker:\n{process.log_path.read_text()}")
        return process

    yield start
    for process in started:
        _kill_container_processes(process)
        subprocess.run(["buildah", "rm", process.container], env=BUILDAH_ENV, capture_output=True)
    assert not _pids_of_image_python(), "a process of the image outlived its test"


def _kill_container_processes(process):
    """SIGKILL everything the container started: its session, and the image's Python programs.

    Killing only the entrypoint left its Celery worker running, re-parented to
    PID 1 and still consuming from the machine's RabbitMQ.
    """
    for pid in [*_pids_of("start-celery"), *_pids_of_image_python()]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)
    wait_for(lambda: not _pids_of_image_python(), 30, "the image's processes to exit")


def _pids_of_image_python():
    """Host PIDs of Python programs run from the image's virtual environment (/opt/venv)."""
    found = subprocess.run(["pgrep", "-f", "^/opt/venv/bin/python"], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def _pids_of(script):
    """Host PIDs of the container's entrypoint: chroot isolation shares the PID namespace."""
    # The bash running the script, not `buildah run`, whose arguments name it too.
    found = subprocess.run(["pgrep", "-f", f"^bash /usr/local/bin/{script}"], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def _page(tmp_path, name):
    pixels = np.full((300, 200), 235, dtype=np.uint8)
    pixels[100:110, :] = 10  # a staff-line-like stroke
    pixels[:, 50:55] = 30
    path = tmp_path / f"{name}.png"
    Image.fromarray(pixels).save(path)
    return path


def _binarization_job():
    """A Gamera binarization when that family is installed, else the utilities' Otsu conversion."""
    for name, port_in, port_out in (
        ("Otsu Threshold", "Greyscale PNG image", "Onebit PNG image"),
        ("To one-bit PNG", "Image", "One-bit PNG image"),
    ):
        if Job.objects.filter(name=name).exists():
            return name, port_in, port_out
    raise AssertionError("no binarization job is registered")


def test_container_runs_a_workflow_and_stops_cleanly(tmp_path, container):
    job, port_in, port_out = _binarization_job()
    project = make_project()
    queue = Job.objects.get(name=job).job_queue
    pages = [create_resource_from_path(project, _page(tmp_path, f"folio{i}")) for i in range(3)]
    workflow = chain_document([{}], job_name=job, in_port=port_in, out_port=port_out)
    run = run_over(valid_workflow(project, workflow), pages)
    container(queue)
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=180)
    assert run.status == RunStatus.FINISHED, list(RunJob.objects.filter(workflow_run=run).values_list("error_summary"))
    for run_job in RunJob.objects.filter(workflow_run=run):
        output = run_job.outputs.get().resource
        assert identify(storage.absolute_path(output)) == "image/onebit+png"
        with Image.open(storage.absolute_path(output)) as image:
            ink = ~np.array(image)
        assert ink[100:110, :].all() and not ink[0:50, 100:200].any()
        assert run_job.worker_host and run_job.job_version


def test_sigterm_mid_job_lets_the_job_finish(data_dir, container):
    project = make_project()
    ledger = data_dir / "ledger"
    settings = step_settings("slow", Sleep=6, Ledger="/data/ledger")  # the container's view of data_dir
    run = run_over(valid_workflow(project, chain_document([settings])), [upload(project, "p", name="p")])
    worker = container("celery", grace=120, test_jobs=True)
    wait_for(ledger.exists, 60, "the job to start in the container")
    for pid in _pids_of("start-celery"):
        os.kill(pid, signal.SIGTERM)  # what `docker stop` sends to PID 1
    assert worker.wait(timeout=150) == 0
    assert "stopping; the running job may take up to 120s" in worker.log_path.read_text()
    wait_run(run, {RunStatus.FINISHED}, timeout=30)
    assert output_texts(run) == {"Test - Text step - Text output": "p+slow"}
    assert RunJob.objects.get(workflow_run=run).attempts == 1  # finished by the stopping worker, not redone


def test_the_image_carries_the_built_front_ends():
    """The web application's pages (built in the Node stage) are in the installed package."""
    name = subprocess.run(["buildah", "from", IMAGE], env=BUILDAH_ENV, capture_output=True, text=True, check=True).stdout.strip()
    try:
        script = (
            "import json; from rodan.frontend import BUILD_DIR, MANIFEST; "
            "entries = json.loads(MANIFEST.read_text()); "
            "print(all((BUILD_DIR / chunk['file']).is_file() for chunk in entries.values()), sorted(entries))"
        )
        found = subprocess.run(
            ["buildah", "run", name, "--", "python3", "-c", script], env=BUILDAH_ENV, capture_output=True, text=True, timeout=120
        )
        assert found.returncode == 0, found.stderr
        assert found.stdout.split()[0] == "True" and "src/viewer/page.ts" in found.stdout
    finally:
        subprocess.run(["buildah", "rm", name], env=BUILDAH_ENV, capture_output=True)
