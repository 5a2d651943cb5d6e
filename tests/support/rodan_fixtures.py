"""Fixtures that start real processes: Celery workers and the beat scheduler."""

import os
import signal
import subprocess
import time

import pytest


class Processes:
    """Child processes of one test; all stopped (and their children killed) at teardown."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.started = []

    def start(self, label, command, ready_text=None, timeout=60):
        log_path = self.log_dir / f"{label}.log"
        log = open(log_path, "ab")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = log_path
        self.started.append(process)
        if ready_text:
            deadline = time.monotonic() + timeout
            while ready_text not in log_path.read_text(errors="replace"):
                if process.poll() is not None:
                    raise RuntimeError(f"{label} exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{label} not ready after {timeout}s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        return process

    def stop_all(self):
        """SIGTERM to each main process, as `docker stop` sends it; then the whole group is killed.

        Not SIGTERM to the group: a Celery pool child killed while it holds
        billiard's queue lock leaves its parent waiting on that lock forever.
        """
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


@pytest.fixture
def processes(tmp_path):
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def start_worker(processes, request):
    """Start a real Celery worker consuming every queue; returns its Popen."""
    from rodan.stack import worker_command

    counter = iter(range(1, 100))

    def start(concurrency=1, queues=("celery", "Python3", "GPU"), max_tasks_per_child=100):
        index = next(counter)
        name = f"test{index}-{os.getpid()}-{request.node.name[:20]}@%h"
        command = worker_command(list(queues), concurrency, name, max_tasks_per_child, loglevel="INFO")
        return processes.start(f"worker{index}", command, ready_text=" ready.")

    return start


@pytest.fixture
def start_scheduler(processes):
    """Start the periodic scheduler, which reaps every RODAN_REAPER_INTERVAL."""
    from rodan.stack import scheduler_command

    def start():
        return processes.start("scheduler", scheduler_command(), ready_text="scheduler: reaping")

    return start


@pytest.fixture(autouse=True)
def cancel_leftover_runs():
    """Runs a test leaves active are cancelled, so later tests' schedulers ignore them."""
    yield
    from rodan.engine.lifecycle import cancel_run
    from rodan.models import WorkflowRun
    from rodan.models.status import RunStatus

    for run in WorkflowRun.objects.filter(status__in=(RunStatus.PROCESSING, RunStatus.RETRYING, RunStatus.FAILED)):
        cancel_run(run)


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(processes):
    """The web app served by ``rodan serve`` (uvicorn) on a free port; yields its base URL."""
    import sys

    import requests

    port = free_port()
    processes.start("web", [sys.executable, "-m", "rodan.cli", "serve", "--port", str(port)], ready_text="Uvicorn running on")
    base = f"http://127.0.0.1:{port}"
    assert requests.get(f"{base}/api/ht/", timeout=10).status_code == 200
    return base
