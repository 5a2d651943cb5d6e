"""The processes of a running system: web server, Celery workers, scheduler.

``rodan up`` starts them as children in their own sessions, so Ctrl-C reaches
only this supervisor, which then stops them in order: SIGTERM (Celery's warm
shutdown lets a running job finish), then SIGKILL after a grace period.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings


def prepare_data_dir(data_dir):
    """Create the data folder layout and a persistent secret key (first start only)."""
    data_dir = Path(data_dir)
    for sub in ("media", "broker/messages", "broker/control", "broker/processed", "logs"):
        (data_dir / sub).mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)


def celery_command(*args):
    return [sys.executable, "-m", "celery", "-A", "rodan.celery", *args]


def worker_command(queues, concurrency, name, max_tasks_per_child=None, loglevel="INFO"):
    return celery_command(
        "worker",
        "-Q",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--max-tasks-per-child",
        str(max_tasks_per_child or settings.CELERY_WORKER_MAX_TASKS_PER_CHILD),
        "-n",
        name,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    )


def scheduler_command():
    """The periodic scheduler: the reaper loop (``rodan scheduler``)."""
    return [sys.executable, "-m", "rodan.cli", "scheduler"]


class Supervisor:
    """Starts child processes and stops them all, cleanly, together."""

    def __init__(self, log_dir=None):
        self.children = []  # (label, Popen)
        self.log_dir = log_dir

    def start(self, label, command):
        output = None
        if self.log_dir is not None:
            output = open(self.log_dir / f"{label}.log", "ab")
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT if output else None, start_new_session=True
        )
        self.children.append((label, process))
        return process

    def first_exited(self):
        """(label, returncode) of a child that has stopped, or None."""
        for label, process in self.children:
            if process.poll() is not None:
                return label, process.returncode
        return None

    def stop(self, grace=30.0):
        for _, process in self.children:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
