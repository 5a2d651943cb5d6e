"""Push benchmark: N open event streams on one project while a 100-RunJob run progresses.

    .venv/bin/python -m bench.push [--streams 10,100,1000] [--backend services|embedded] [--rate 20]
    .venv/bin/python -m bench.push --streams 10 --tree /tmp/old-rodan      # another checkout's server

For each N a fresh ``rodan serve`` is started on a private database (a new
PostgreSQL database, or SQLite in a temporary folder), with one project
holding a run of 100 RunJobs. N streams are opened (aiohttp) and read to
their initial state; then every RunJob goes Processing (1) then Finished (4)
and the run Finished: 201 transitions at ``--rate`` per second, each written
to its row with its event in one transaction, as the engine writes them.
Meanwhile ``GET /api/projects/`` is timed every 50 ms. Reported: API latency,
whether every stream got every transition in order and once, delay from
commit to delivery, and the server's CPU, resident memory and threads.
``--tree`` serves another checkout (e.g. the old, polling stream:
``git worktree add /tmp/old-rodan 6a27d30``) with this virtual environment;
its streams carry no ids, so deliveries are matched by (object, status).
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("RODAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_JOBS = 100
API_PERIOD = 0.05


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Proc:
    """CPU seconds, resident memory and threads of a process, from /proc."""

    def __init__(self, pid):
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def cpu(self):
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def status(self, key):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def rss_mb(self):
        return self.status("VmRSS") / 1024


class Backend:
    """A private database for one server, and the environment that points at it."""

    def __init__(self, kind):
        self.kind = kind
        self.data = Path(tempfile.mkdtemp(prefix="rodan-push-"))
        self.env = {"RODAN_DATA_DIR": str(self.data), "RODAN_EVENT_STREAM_SECONDS": "3600"}
        self.database = None
        if kind == "services":
            import psycopg

            self.database = f"rodan_push_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
            self.env["DATABASE_URL"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}"

    def close(self):
        import shutil

        if self.database:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.data, ignore_errors=True)


def setup_project():
    """A user, a token, and a project with one run of RUN_JOBS RunJobs at Scheduled (0)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from rodan.models import Project, RunJob, WorkflowRun

    user = get_user_model().objects.create_user(f"bench{uuid.uuid4().hex[:6]}", "bench@example.org", "pw")
    token = Token.objects.get_or_create(user=user)[0].key
    project = Project.objects.create(name="push bench", creator=user)
    run = WorkflowRun.objects.create(project=project, creator=user, status=1, name="100 RunJobs")
    RunJob.objects.bulk_create(
        RunJob(workflow_run=run, workflow_job_uuid=uuid.uuid4().hex, job_name=f"Job {i}", status=0) for i in range(RUN_JOBS)
    )
    return token, project, run


def progress(project, run, rate, committed, ids):
    """Every RunJob to 1 then 4, then the run to 4.

    ``committed`` gets (kind, uuid hex, status) -> commit time, ``ids`` event id -> that key.
    """
    from django.db import transaction

    from rodan.engine import events
    from rodan.models import RunJob, WorkflowRun

    run_jobs = list(RunJob.objects.filter(workflow_run=run).order_by("job_name").values_list("uuid", "job_name"))
    steps = [("runjob", rj, name, status) for status in (1, 4) for rj, name in run_jobs[: RUN_JOBS // 2]]
    steps += [("runjob", rj, name, status) for status in (1, 4) for rj, name in run_jobs[RUN_JOBS // 2 :]]
    steps.append(("workflowrun", run.uuid, None, 4))
    started = time.monotonic()
    for index, (kind, object_uuid, name, status) in enumerate(steps):
        time.sleep(max(0.0, started + index / rate - time.monotonic()))
        with transaction.atomic():
            if kind == "runjob":
                RunJob.objects.filter(pk=object_uuid).update(status=status)
                event = events.record("runjob", object_uuid, project.pk, status, workflow_run=run.uuid.hex, job_name=name)
            else:
                WorkflowRun.objects.filter(pk=object_uuid).update(status=status)
                event = events.record("workflowrun", object_uuid, project.pk, status)
        ids[str(event.id)] = (kind, object_uuid.hex, status)
        committed[(kind, object_uuid.hex, status)] = time.time()
    return [(kind, object_uuid.hex, status) for kind, object_uuid, _, status in steps]


async def read_stream(session, url, token, initial, received, ready):
    """Read one stream: count the initial state, then log (event id or payload key, arrival time).

    Light on purpose (the client shares the machine with the server): a
    message with an id is not parsed further; the old stream has no ids, so
    its payload is read for (kind, uuid, status).
    """
    headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
    seen, buffer = 0, ""
    try:
        async with session.get(url, headers=headers) as response:
            async for chunk in response.content.iter_any():
                now = time.time()
                buffer += chunk.decode()
                *messages, buffer = buffer.split("\n\n")
                for message in messages:
                    if not message.startswith(("id:", "event:")):
                        continue
                    seen += 1
                    if seen > initial:
                        if message.startswith("id: "):
                            received.append((message[4 : message.index("\n")], now))
                        else:
                            kind = message.split("\n", 1)[0][len("event: ") :]
                            payload = json.loads(message.split("data: ", 1)[1])
                            received.append(((kind, payload["uuid"], payload["status"]), now))
                    elif seen == initial:
                        ready.set()
    except (asyncio.CancelledError, Exception):
        pass


def probe_main(base, token):
    """``GET /api/projects/`` every 50 ms until stdin closes; print the latencies (a process of its own)."""
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    timings, failures = [], 0
    while not stop.is_set():
        started = time.perf_counter()
        try:
            ok = session.get(f"{base}/api/projects/", timeout=10).status_code == 200
        except requests.RequestException:
            ok = False
        if ok:
            timings.append(time.perf_counter() - started)
        else:
            failures += 1
        stop.wait(API_PERIOD)
    print(json.dumps({"timings": timings, "failures": failures}))


def start_server(backend, tree, port, log):
    env = {**os.environ, **backend.env}
    if tree:
        env["PYTHONPATH"] = f"{tree}{os.pathsep}{env.get('PYTHONPATH', '')}"
    server = subprocess.Popen(
        [sys.executable, "-m", "rodan.cli", "serve", "--port", str(port)],
        cwd=tree or ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ht/", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


async def measure(count, backend, tree, rate):
    import aiohttp

    token, project, run = await asyncio.to_thread(setup_project)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(backend.data / f"server-{count}.log", "ab") as log:
        server = start_server(backend, tree, port, log)
    proc = Proc(server.pid)
    result = {"N": count}
    try:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            rest = []
            await probe_once(session, base, token, rest, 20)
            rss_before, cpu_before, wall_before = proc.rss_mb(), proc.cpu(), time.monotonic()
            result["threads at rest"] = proc.status("Threads")
            url = f"{base}/api/project/{project.pk}/events/"
            received = [[] for _ in range(count)]
            ready = [asyncio.Event() for _ in range(count)]
            opened = time.monotonic()
            readers = [
                asyncio.create_task(read_stream(session, url, token, RUN_JOBS + 1, received[i], ready[i]))
                for i in range(count)
            ]
            done, _ = await asyncio.wait([asyncio.create_task(e.wait()) for e in ready], timeout=30)
            result["streams open"] = len(done)
            result["open all (s)"] = time.monotonic() - opened
            result["RSS with streams open (MB)"] = proc.rss_mb() - rss_before
            probe = subprocess.Popen(
                [sys.executable, "-m", "bench.push", "--probe", base, token],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )
            committed, ids, samples = {}, {}, []
            writer = asyncio.create_task(asyncio.to_thread(progress, project, run, rate, committed, ids))
            while not writer.done():
                samples.append((proc.rss_mb(), proc.status("Threads")))
                await asyncio.sleep(0.5)
            expected = writer.result()
            await asyncio.sleep(2.0)  # the last deliveries
            probed = json.loads(probe.communicate("")[0])
            timings, failures = probed["timings"], probed["failures"]
            cpu_after, wall_after = proc.cpu(), time.monotonic()
            result["threads streaming"] = max(t for _, t in samples)
            result["rss peak (MB)"] = max(r for r, _ in samples)
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    keyed = [[ids.get(key, key) for key, _ in got] for got in received]
    complete = sum(1 for keys in keyed if keys == expected)
    delays = [
        at - committed[ids.get(key, key)] for got in received for key, at in got if ids.get(key, key) in committed
    ]
    result.update(
        {
            "API p50 at rest (ms)": 1000 * percentile(rest, 0.5),
            "API p50 (ms)": 1000 * percentile(timings, 0.5),
            "API p95 (ms)": 1000 * percentile(timings, 0.95),
            "API failed": failures,
            "streams with all 201, in order, once": complete,
            "delivered / expected": f"{sum(len(g) for g in received)} / {len(expected) * count}",
            "delay p50 (ms)": 1000 * percentile(delays, 0.5),
            "delay p95 (ms)": 1000 * percentile(delays, 0.95),
            "delay max (ms)": 1000 * max(delays, default=float("nan")),
            "server CPU (%)": 100 * (cpu_after - cpu_before) / (wall_after - wall_before),
            "RSS growth (MB)": result["rss peak (MB)"] - rss_before,
        }
    )
    return result


async def probe_once(session, base, token, timings, count):
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(f"{base}/api/projects/", headers=headers) as response:
            await response.read()
        timings.append(time.perf_counter() - started)


def table(results):
    keys = [k for k in results[0] if k != "N"]
    lines = ["| measure | " + " | ".join(f"N = {r['N']}" for r in results) + " |", "|---|" + "---:|" * len(results)]
    for key in keys:
        cells = [r.get(key) for r in results]
        lines.append(f"| {key} | " + " | ".join((f"{c:.1f}" if abs(c) < 10 else f"{c:.0f}") if isinstance(c, float) else str(c) for c in cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="10,100,1000")
    parser.add_argument("--backend", choices=["services", "embedded"], default="services")
    parser.add_argument("--rate", type=float, default=20.0, help="transitions per second")
    parser.add_argument("--tree", help="serve this checkout instead (the old implementation)")
    parser.add_argument("--probe", nargs=2, metavar=("BASE", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        return probe_main(*args.probe)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    backend = Backend(args.backend)
    os.environ.update(backend.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "rodan.settings"
    try:
        import django
        from django.core.management import call_command

        from rodan.stack import prepare_data_dir

        prepare_data_dir(backend.data)
        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        results = []
        for count in [int(n) for n in args.streams.split(",")]:
            results.append(asyncio.run(measure(count, backend, args.tree, args.rate)))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        backend.close()
    print(f"`{' '.join(['python -m bench.push', *sys.argv[1:]])}` ({os.cpu_count()} CPUs, {args.backend}, "
          f"{2 * RUN_JOBS + 1} transitions at {args.rate:g}/s)\n")
    print(table(results))


if __name__ == "__main__":
    main()
