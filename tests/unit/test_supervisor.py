"""The supervisor of ``rodan up`` and ``rodan worker`` starts again whatever child stops."""

import os
import signal
import sys
import time

from rodan.stack import Supervisor


def test_a_stopped_child_is_started_again_and_one_that_keeps_failing_after_a_growing_pause(tmp_path):
    supervisor = Supervisor(log_dir=tmp_path)
    sleeper = supervisor.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    failing = supervisor.start("failing", [sys.executable, "-c", "raise SystemExit(75)"])
    messages = []
    try:
        os.kill(sleeper.pid, signal.SIGKILL)
        sleeper.wait()
        failing.wait()
        assert sorted(supervisor.restart_exited(messages.append)) == ["failing", "sleeper"]  # the first time at once
        assert any("failing process stopped (exit 75)" in m for m in messages)
        replacement = supervisor.children[0].process
        assert replacement.pid != sleeper.pid and replacement.poll() is None

        supervisor.children[1].process.wait()
        assert supervisor.restart_exited(messages.append) == []  # failed again at once: a pause first
        time.sleep(1.1)
        assert supervisor.restart_exited(messages.append) == ["failing"]
    finally:
        supervisor.stop(grace=5)
    assert all(child.process.poll() is not None for child in supervisor.children)
