"""Hosts of a test's own, as network namespaces on one bridge: separate machines on a LAN, on one box.

Each host is a namespace (``ip netns``) with loopback up and one veth to a
bridge in the root namespace, where the test process sits as the operator's
machine would. A process started on a host runs under ``ip netns exec`` and
``unshare --uts`` with the host's own host name, so what the engine records
as a worker's host (``socket.gethostname()``) tells the hosts apart. Cutting a
host's link sets the bridge end of its veth down: its packets are dropped
silently, as when a cable is pulled, not refused. Everything is removed at
teardown, failures included: the processes left in each namespace are killed
by their ids, then the namespaces and the bridge are deleted (their veths go
with them). Names carry a random suffix, so runs never meet.

The file system is not separated: a folder is shared by every host, as a
shared volume (NFS, a cloud file system) would be.

``Cluster`` puts a deployment on three such hosts: A runs a private
PostgreSQL and RabbitMQ listening on A's address only, the web app
(``rodan serve``) and the scheduler (``rodan scheduler``); each worker host
runs ``rodan worker``, the supervised worker the faults tests start, and
reaches A only over its veth link. Every process of the deployment, and the
test process (the operator's machine, on the bridge), finds the database and
broker at A's address; files are the session's ``MEDIA_ROOT``. ``BINARIZE``
and ``binarization_pages`` are the work the multi-host test and
``bench/multihost.py`` spread over the hosts.
"""

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass

import numpy as np
from builders import chain_document, upload
from django.core.management import call_command
from django.db import connection
from PIL import Image
from private_postgresql import PrivatePostgreSQL, _bin
from private_rabbitmq import PrivateRabbitMQ
from rodan_fixtures import Processes


def problem():
    """Why this machine cannot build namespaced hosts, or None."""
    if os.geteuid() != 0:
        return "network namespaces and veth links need root"
    missing = [tool for tool in ("ip", "unshare", "hostname") if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} not found (iproute2, util-linux and hostname are needed to build hosts)"
    return None


def ip(*args, check=True):
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _free_subnet():
    """A /24 under 10.77.0.0/16 that no interface of the root namespace is on (10.77.0.0/24 first)."""
    used = ip("-4", "-o", "addr", "show").stdout
    for third in range(256):
        if f" 10.77.{third}." not in used:
            return ipaddress.ip_network(f"10.77.{third}.0/24")
    raise RuntimeError("every 10.77.x.0/24 is in use")


@dataclass
class Host:
    name: str
    namespace: str
    address: str
    link: str  # the bridge end of the host's veth: the cable to cut

    def command(self, argv):
        """``argv`` run on this host: its network, its host name, the shared file system."""
        named = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.name]
        return ["ip", "netns", "exec", self.namespace, *named, *argv]

    def run(self, argv, **kwargs):
        return subprocess.run(["ip", "netns", "exec", self.namespace, *argv], capture_output=True, text=True, **kwargs)

    def pids(self):
        return [int(pid) for pid in ip("netns", "pids", self.namespace, check=False).stdout.split()]


class Network:
    """A bridge and hosts on it; ``close()`` removes every trace, whatever state it is in."""

    def __init__(self):
        self.suffix = uuid.uuid4().hex[:6]
        self.subnet = _free_subnet()
        addresses = self.subnet.hosts()
        self.bridge = f"rbr{self.suffix}"
        self.gateway = str(next(addresses))  # the root namespace's address on the bridge: the test runner
        self._addresses = addresses
        self.hosts = []
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def add_host(self, name):
        namespace = f"rodan-{name}-{self.suffix}"
        index = len(self.hosts)
        host = Host(name=name, namespace=namespace, address=str(next(self._addresses)), link=f"rv{index}{self.suffix}")
        ip("netns", "add", namespace)
        self.hosts.append(host)
        inside = f"ri{index}{self.suffix}"
        ip("link", "add", host.link, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", namespace)
        ip("link", "set", host.link, "master", self.bridge)
        ip("link", "set", host.link, "up")
        for args in (
            ("link", "set", "lo", "up"),
            ("link", "set", inside, "name", "eth0"),
            ("addr", "add", f"{host.address}/{self.subnet.prefixlen}", "dev", "eth0"),
            ("link", "set", "eth0", "up"),
        ):
            ip("-n", namespace, *args)
        return host

    def cut(self, host):
        ip("link", "set", host.link, "down")

    def restore(self, host):
        ip("link", "set", host.link, "up")

    def close(self):
        for host in self.hosts:
            for pid in host.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while host.pids() and time.monotonic() < deadline:
                time.sleep(0.1)
            ip("netns", "del", host.namespace, check=False)
            ip("link", "del", host.link, check=False)  # gone with the namespace, unless building it failed halfway
        ip("link", "del", self.bridge, check=False)


class PostgreSQLOnHost(PrivatePostgreSQL):
    """The private PostgreSQL server, run on ``host`` and listening on its address only."""

    def __init__(self, host):
        self.host = host
        super().__init__()
        with open(self.data / "pg_hba.conf", "a") as rules:
            # The hosts on A's subnet, as the machine's shared test server trusts localhost.
            rules.write("host all all samenet trust\n")
        self.url = f"postgresql://postgres@{host.address}:{self.port}/rodan"

    def _as_postgres(self, *command, timeout=120):
        return subprocess.run(
            ["ip", "netns", "exec", self.host.namespace, "runuser", "-u", "postgres", "--", *command],
            check=True, capture_output=True, text=True, timeout=timeout,
        )

    def _ctl(self, *args):
        options = f"-p {self.port} -k {self.base} -c listen_addresses={self.host.address} -c fsync=off"
        return self._as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"), "-o", options, "-w", *args
        )


class RabbitMQOnHost(PrivateRabbitMQ):
    """The private RabbitMQ node, run on ``host`` (with its own epmd there) and listening on its address only."""

    def __init__(self, host):
        self.host = host
        super().__init__([])
        config = self.base / "rabbitmq.conf"
        config.write_text(config.read_text().replace(f"127.0.0.1:{self.port}", f"{host.address}:{self.port}"))
        self.url = f"amqp://guest:guest@{host.address}:{self.port}//"
        self.command_prefix = ["ip", "netns", "exec", host.namespace]


#: Timings the deployment's processes get (README, configuration): a silent worker is judged dead after
#: HEARTBEAT_TIMEOUT; 10 s as in the faults suite, so a loaded 2-core machine never makes a live worker look dead.
HEARTBEAT_TIMEOUT = 10
ENGINE_TIMINGS = {
    "RODAN_HEARTBEAT_INTERVAL": "0.5",
    "RODAN_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    "RODAN_REAPER_INTERVAL": "1",
}
WEB_PORT = 8000


class Cluster:
    """Use as a context manager: everything it started is stopped and removed on exit, failures included."""

    def __init__(self, log_dir, worker_hosts=("hostb", "hostc")):
        self.log_dir = log_dir
        self.worker_host_names = worker_hosts
        self.workers = {}

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        try:
            self._build()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def _build(self):
        stack = self._stack
        self.network = Network()
        stack.callback(self.network.close)
        self.a = self.network.add_host("hosta")
        self.hosts = {name: self.network.add_host(name) for name in self.worker_host_names}

        self.postgresql = PostgreSQLOnHost(self.a)
        stack.callback(self.postgresql.stop)
        self.postgresql.start()
        self.rabbitmq = RabbitMQOnHost(self.a)
        stack.callback(self.rabbitmq.stop)
        self.rabbitmq.start()

        self._point_at_host_a()
        self.processes = Processes(self.log_dir)
        stack.callback(self.processes.stop_all)
        self.web_url = f"http://{self.a.address}:{WEB_PORT}"
        serve = [sys.executable, "-m", "rodan.cli", "serve", "--host", self.a.address, "--port", str(WEB_PORT)]
        self.processes.start("web-hosta", self.a.command(serve), ready_text="Uvicorn running on")
        scheduler = [sys.executable, "-m", "rodan.cli", "scheduler"]
        self.processes.start("scheduler-hosta", self.a.command(scheduler), ready_text="scheduler: reaping")

    def _point_at_host_a(self):
        """This process and every process started from now on use A's database and broker (and the engine timings)."""
        from rodan.celery import app

        saved_env = {key: os.environ.get(key) for key in ("DATABASE_URL", "CELERY_BROKER_URL", *ENGINE_TIMINGS)}
        saved_db = dict(connection.settings_dict)
        saved_broker = app.conf.broker_url

        def restore():
            connection.close()
            connection.settings_dict.update(saved_db)
            app._pool = app.amqp._producer_pool = None
            app.conf.broker_url = saved_broker
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

        self._stack.callback(restore)
        os.environ.update(DATABASE_URL=self.postgresql.url, CELERY_BROKER_URL=self.rabbitmq.url, **ENGINE_TIMINGS)
        connection.close()
        connection.settings_dict.update(
            NAME="rodan", USER="postgres", PASSWORD="", HOST=self.a.address, PORT=self.postgresql.port
        )
        app._pool = app.amqp._producer_pool = None
        app.conf.broker_url = self.rabbitmq.url
        call_command("migrate", interactive=False, verbosity=0)  # also registers the jobs

    def start_worker(self, name, concurrency=2):
        """``rodan worker`` on worker host ``name``; returns once Celery says it is ready."""
        host = self.hosts[name]
        command = [
            sys.executable, "-m", "rodan.cli", "worker", "--concurrency", str(concurrency),
            "--max-tasks-per-child", "1000", "--name", f"{name}@%h",
        ]
        self.workers[name] = self.processes.start(f"worker-{name}", host.command(command), ready_text=" ready.")
        return self.workers[name]

    def stop_worker(self, name):
        """Warm shutdown of host ``name``'s worker (SIGTERM, as ``docker stop``), waited for."""
        worker = self.workers.pop(name)
        worker.terminate()
        worker.wait(timeout=60)

    def web_health_from(self, name):
        """The status code of A's health route fetched on host ``name`` (or from this process with None)."""
        url = f"{self.web_url}/api/ht/"
        if name is None:
            return urllib.request.urlopen(url, timeout=10).status
        probe = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=10).status)"
        done = self.hosts[name].run([sys.executable, "-c", probe], timeout=30)
        return int(done.stdout.strip()) if done.returncode == 0 else done.stderr.strip()[-300:]


#: The cheap real job the multi-host test and bench spread over hosts: a one-job binarization workflow.
BINARIZE = chain_document(
    [{}], job_name="To one-bit PNG", in_port="Image", out_port="One-bit PNG image", name="binarize"
)


def binarization_pages(project, folder, count):
    """``count`` small real pages: RGB PNGs of dark strokes on paper-coloured noise, each different."""
    rng = np.random.default_rng(16)
    resources = []
    for index in range(count):
        pixels = rng.normal(215, 12, size=(160, 120, 3))
        for row in range(20, 150, 16):  # staff-like lines, shifted per page
            pixels[row + index % 5 : row + index % 5 + 2, 10:110] = 40
        path = folder / f"page{index:03d}.png"
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB").save(path)
        resources.append(upload(project, path, name=path.stem, mimetype="image/rgb+png"))
    return resources
