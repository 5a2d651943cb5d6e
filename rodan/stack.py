"""The processes of a running system: web server, Celery workers, scheduler.

``rodan up`` and ``rodan worker`` start them as children in their own
sessions, so Ctrl-C reaches only this supervisor. It starts again any child
that stops, and on Ctrl-C stops them in order: SIGTERM (Celery's warm
shutdown lets a running job finish), then SIGKILL after a grace period.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def prepare_data_dir(data_dir):
    """Create the data folder layout and a persistent secret key (first start only)."""
    data_dir = Path(data_dir)
    for sub in ("media", "static", "broker/messages", "broker/control", "broker/processed", "logs"):
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


@dataclass
class Child:
    label: str
    command: list
    process: subprocess.Popen
    started: float
    failures: int = 0  # quick failures in a row
    due: float = None  # when a stopped child is started again


class Supervisor:
    """Starts child processes, starts again those that stop, and stops them all together.

    A worker exits non-zero when it finds it cannot run messages
    (``rodan.engine.watchdog``) or dies; starting it again is what recovers
    the system, so no child's failure waits for a human. A child that keeps
    failing soon after it starts again is given a growing pause.
    """

    #: A child that ran this long before stopping was healthy: its count of quick failures starts again.
    #: A Celery worker that cannot start fails within a few seconds; one killed later is not in a crash loop.
    HEALTHY_SECONDS = 10
    #: The longest pause: a worker killed again and again while starting (the faults suite's 20 kills) is
    #: back within it, and a child in a real crash loop costs one start every 10 s.
    MAX_PAUSE = 10

    def __init__(self, log_dir=None, own_sessions=True):
        """``own_sessions``: each child leads a session of its own (its whole tree is stopped together);
        without, children stay in the caller's process group, so whoever signals that group
        (a container's entrypoint, a test) reaches them and their pool processes too."""
        self.children = []
        self.log_dir = log_dir
        self.own_sessions = own_sessions

    def _spawn(self, label, command):
        output = None
        if self.log_dir is not None:
            output = open(self.log_dir / f"{label}.log", "ab")
        try:
            return subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=self.own_sessions,
                preexec_fn=_die_with_parent,
            )
        finally:
            if output is not None:
                output.close()

    def start(self, label, command):
        process = self._spawn(label, command)
        self.children.append(Child(label, command, process, time.monotonic()))
        return process

    def restart_exited(self, log=print):
        """Start again every child that stopped, once its pause is over; returns the labels started."""
        restarted = []
        now = time.monotonic()
        for child in self.children:
            if child.process.poll() is None:
                continue
            if child.due is None:
                self._kill_rest(child.process)  # its pool processes, if any outlived it
                child.failures = 0 if now - child.started >= self.HEALTHY_SECONDS else child.failures + 1
                child.due = now + (min(self.MAX_PAUSE, 2 ** (child.failures - 2)) if child.failures > 1 else 0)
                log(f"the {child.label} process stopped (exit {child.process.returncode}); starting it again")
            if now >= child.due:
                child.process, child.started, child.due = self._spawn(child.label, child.command), now, None
                restarted.append(child.label)
        return restarted

    def stop(self, grace=30.0):
        """SIGTERM to every child, SIGKILL to what is left of each after ``grace`` seconds (None: no limit)."""
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = None if grace is None else time.monotonic() + grace
        for child in self.children:
            try:
                child.process.wait(timeout=None if deadline is None else max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self._kill_rest(child.process)
            child.process.wait()

    def _kill_rest(self, process):
        """SIGKILL what is left of a child: its whole session when it leads one, else the process itself."""
        try:
            if self.own_sessions:
                os.killpg(process.pid, signal.SIGKILL)
            elif process.poll() is None:
                process.kill()
        except ProcessLookupError:
            pass


def _die_with_parent():
    """In the child before it starts: the kernel SIGKILLs it when the supervisor dies (Linux).

    A supervisor killed outright (a container's grace period running out,
    SIGKILL) must not leave a worker behind that goes on taking messages.
    """
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the supervisor's own stop is all there is
        pass
