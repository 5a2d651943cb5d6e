"""A RabbitMQ node of the test's own, on free ports, stopped at teardown even when the test fails.

The machine's shared broker is never touched: the node has its own name,
ports (AMQP, distribution), data and log folders and configuration, and uses
the shared epmd only to register its name.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from rodan_fixtures import free_port


class PrivateRabbitMQ:
    def __init__(self, config_lines, advanced=""):
        # rabbitmq-server drops to the rabbitmq user: its folders must be its own.
        base = self.base = Path(tempfile.mkdtemp(prefix="rabbitmq-test-"))
        self.port = free_port()
        self.node = f"rabbit-test-{self.port}@localhost"
        (base / "mnesia").mkdir(parents=True)
        (base / "log").mkdir()
        (base / "rabbitmq.conf").write_text(
            "\n".join([f"listeners.tcp.default = 127.0.0.1:{self.port}", "loopback_users = none", *config_lines]) + "\n"
        )
        (base / "advanced.config").write_text(advanced or "[].\n")
        self.env = {
            **os.environ,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
            "ERL_CRASH_DUMP": str(base / "erl_crash.dump"),
        }
        (base / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam("rabbitmq")
            for path in [base, *base.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.process = None
        #: Put before every command the node runs (``ip netns exec <ns>`` runs it on another network host).
        self.command_prefix = []

    def ctl(self, *args, timeout=60):
        return subprocess.run(
            [*self.command_prefix, "rabbitmqctl", "-n", self.node, *args],
            env=self.env, capture_output=True, text=True, timeout=timeout,
        )

    def start(self, timeout=90):
        log = open(self.base / "server.log", "ab")
        self.process = subprocess.Popen(
            [*self.command_prefix, "rabbitmq-server"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited:\n{(self.base / 'server.log').read_text()[-3000:]}")
            if self.ctl("await_startup", "--timeout", "5").returncode == 0:
                return self
            time.sleep(0.5)
        raise RuntimeError(f"rabbitmq-server not up after {timeout}s")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.ctl("stop", timeout=60)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def private_rabbitmq():
    """Start a private node with ``config_lines`` (rabbitmq.conf) and ``advanced`` (advanced.config)."""
    if not shutil.which("rabbitmq-server"):
        pytest.skip("rabbitmq-server is not installed")
    started = []

    def start(config_lines=(), advanced=""):
        broker = PrivateRabbitMQ(list(config_lines), advanced)
        started.append(broker)
        return broker.start()

    yield start
    for broker in started:
        broker.stop()
