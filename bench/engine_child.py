"""The measuring half of ``bench.engine``: one backend, inside its own Django process.

Django settings read the database and broker from the environment once, at
start-up, so ``bench.engine`` runs this module once per backend with that
backend's environment. It migrates, starts real Celery workers with
``rodan.stack.worker_command``, measures, stops the workers and writes its raw
numbers as JSON; the parent turns them into tables.

Run it through ``python -m bench.engine``, not by hand.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

#: The queue of the bare round-trip worker: its own, so engine messages never reach it.
PING_QUEUE = "bench_ping"
NOOP_JOB = "Hello World - Python3"
BATCH_JOBS = [
    ("To greyscale PNG", "Greyscale PNG image"),
    ("To one-bit PNG", "One-bit PNG image"),
    ("Resize image", "Resized image"),
]
BATCH_INPUT_PORT = "Image"
#: Seconds between looks at a run's status; small next to the latencies measured.
POLL_INTERVAL = 0.002
#: Up to this many seconds of random extra quiet (one polling interval of the embedded broker's
#: workers), so sends do not fall at a fixed phase of the workers' polling.
GAP_JITTER = 0.1


class Workers:
    """Celery worker processes started by this benchmark, each in its own session."""

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir)
        self.running = {}

    def start(self, label, queues, extra_env=None):
        """Start a concurrency-1 worker on ``queues``; return its log, which ``wait_ready`` watches."""
        from rodan.stack import worker_command

        log_path = self.log_dir / f"{label}.log"
        command = worker_command(queues, 1, f"bench-{label}-{os.getpid()}@%h")
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(extra_env or {})}
            )
        self.running[label] = process
        return log_path

    def wait_ready(self, label, log_path, timeout=90):
        """Block until the worker's log says " ready." (its queues are consumed from then on)."""
        deadline = time.monotonic() + timeout
        while " ready." not in log_path.read_text(errors="replace"):
            if self.running[label].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {label} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)

    def start_all(self, specs):
        """Start several workers at once (their start-ups overlap), then wait for each."""
        started = [(label, self.start(label, queues, extra_env)) for label, queues, extra_env in specs]
        for label, log_path in started:
            self.wait_ready(label, log_path)

    def stop(self, label, grace=20):
        """Warm shutdown (SIGTERM to the worker's process group), SIGKILL after ``grace`` seconds."""
        process = self.running.pop(label)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def messages_received(self, prefix):
        """Engine messages the workers whose labels start with ``prefix`` have received so far (their logs)."""
        received = re.compile(r"Task rodan\.run_job\[[^]]*\] received")
        return sum(len(received.findall(path.read_text(errors="replace"))) for path in self.log_dir.glob(f"{prefix}*.log"))

    def stop_all(self):
        for label in list(self.running):
            self.stop(label)


def setup_django():
    """Lay out the data folder (the filesystem broker's too), start Django and migrate.

    Migrating also registers every job into the database.
    """
    import django
    from django.core.management import call_command

    from rodan.stack import prepare_data_dir

    prepare_data_dir(os.environ["RODAN_DATA_DIR"])
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def make_project():
    from django.contrib.auth import get_user_model

    from rodan.models import Project

    tag = uuid.uuid4().hex[:8]
    user = get_user_model().objects.create_user(f"bench-{tag}", f"bench-{tag}@example.org", "bench")
    return Project.objects.create(name="engine benchmark", creator=user)


def upload_text(project, name, text):
    """A ready text/plain Resource holding ``text``."""
    from rodan import storage
    from rodan.models import Resource, ResourceType

    resource = Resource.objects.create(
        name=name, project=project, resource_type=ResourceType.objects.get(mimetype="text/plain")
    )
    storage.store_stream(resource, [text.encode()])
    resource.save()
    return resource


def upload_file(project, path):
    """A ready Resource copied from ``path``, typed from its content as an upload is."""
    from rodan import storage
    from rodan.identify import identify
    from rodan.models import Resource, ResourceType

    resource = Resource.objects.create(
        name=path.stem, project=project, resource_type=ResourceType.objects.get(mimetype=identify(path))
    )
    storage.store_copy(resource, path)
    resource.save()
    return resource


def chain_workflow(project, steps):
    """A valid workflow of ``steps`` ([(job name, input port, output port)]) in a line."""
    from rodan.engine.serialization import import_workflow
    from rodan.engine.validation import validate_workflow

    jobs, connections = [], []
    for index, (job_name, in_port, out_port) in enumerate(steps):
        jobs.append(
            {
                "job_name": job_name,
                "job_settings": {},
                "input_ports": [{"label": in_port, "type": in_port, "id": 2 * index}],
                "output_ports": [{"label": out_port, "type": out_port, "id": 2 * index + 1}],
                "appearance": {"x": index, "y": 0},
            }
        )
        if index:
            connections.append({"output_port": 2 * index - 1, "input_port": 2 * index})
    doc = {"__version__": 0.2, "name": "bench", "description": "", "workflow_jobs": jobs, "connections": connections}
    return validate_workflow(import_workflow(project, doc))


def start_run(workflow, resources):
    """``create_run`` over ``resources`` on the workflow's one open input port."""
    from rodan.engine.expansion import create_run
    from rodan.models import InputPort

    port = InputPort.objects.get(workflow_job__workflow=workflow, extern=True)
    return create_run(workflow, {port: list(resources)})


def wait_run(run, timeout, interval=POLL_INTERVAL):
    """Poll the run's status until it ends; raise with the RunJobs' errors unless it finished."""
    from rodan.models import RunJob, WorkflowRun
    from rodan.models.status import RunStatus

    ended = (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED)
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = WorkflowRun.objects.filter(pk=run.pk).values_list("status", flat=True).get()
        if status in ended:
            break
        time.sleep(interval)
    if status != RunStatus.FINISHED:
        errors = list(RunJob.objects.filter(workflow_run=run).values_list("job_name", "status", "error_summary"))
        raise RuntimeError(f"run {run.pk} ended with status {status}: {errors}")


def ping_app(backend_url):
    """A Celery app on the engine's broker, with a result backend, for the bare round trip.

    It is separate from ``rodan.celery.app`` so that the engine's own
    messages are sent exactly as in production, without a result backend.
    """
    from celery import Celery
    from django.conf import settings

    app = Celery("bench-ping", broker=settings.CELERY_BROKER_URL, backend=backend_url, set_as_current=False)
    app.conf.update(
        broker_transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
    )
    return app


def bare_round_trip(app, value):
    """Seconds from sending ``rodan.ping`` to holding its result."""
    started = time.perf_counter()
    result = app.send_task("rodan.ping", args=[value], queue=PING_QUEUE)
    if result.get(timeout=60, interval=POLL_INTERVAL) != value:
        raise RuntimeError("rodan.ping answered with the wrong value")
    return time.perf_counter() - started


def noop_run(workflow, resource):
    """One one-job run: client-side and database-side timings, in seconds."""
    from rodan.models import RunJob

    started = time.perf_counter()
    run = start_run(workflow, [resource])
    created = time.perf_counter()
    wait_run(run, timeout=60)
    seen = time.perf_counter()
    run_job = RunJob.objects.get(workflow_run=run)
    return {
        "create_run": created - started,
        "client": seen - created,
        "dispatch_to_finish": (run_job.finished_at - run_job.dispatched_at).total_seconds(),
        "pickup": (run_job.started_at - run_job.dispatched_at).total_seconds(),
        "in_worker": (run_job.finished_at - run_job.started_at).total_seconds(),
    }


def measure_overhead(workers, runs, warmup, ping_backend, gap):
    """Bare round trips and no-op runs, interleaved so both see the same machine load.

    One engine worker serves the no-op runs and one ping worker (same
    command, its own queue, with a result backend) the round trips. The
    first ``warmup`` pairs are dropped: they pay imports and connections.
    Each pair is followed by ``gap`` seconds (plus jitter) of quiet, so that
    both workers start every measurement idle (see ``bench.engine.IDLE_GAP``).
    """
    workers.start_all(
        [
            ("engine", ["celery", "Python3", "GPU"], None),
            ("ping", [PING_QUEUE], {"CELERY_RESULT_BACKEND": ping_backend}),
        ]
    )
    project = make_project()
    workflow = chain_workflow(project, [(NOOP_JOB, "Text input", "Text output")])
    resource = upload_text(project, "tiny", "benchmark")
    app = ping_app(ping_backend)
    pings, noops = [], []
    jitter = random.Random(0)
    for index in range(warmup + runs):
        ping, noop = bare_round_trip(app, index), noop_run(workflow, resource)
        if index >= warmup:
            pings.append(ping)
            noops.append(noop)
        time.sleep(gap + jitter.uniform(0, GAP_JITTER))
    workers.stop("engine")
    workers.stop("ping")
    return {"gap": gap, "ping": pings, "noop": {key: [n[key] for n in noops] for key in noops[0]}}


def batch_workflow(project):
    return chain_workflow(project, [(name, BATCH_INPUT_PORT, out) for name, out in BATCH_JOBS])


def job_calls(run):
    """{job name: (settings as the job receives them, output resource type)} from a run of the batch."""
    from rodan.engine.execution import settings_for_job
    from rodan.jobs.registry import get_registry
    from rodan.models import Output

    calls = {}
    for output in Output.objects.filter(run_job__workflow_run=run).select_related("run_job", "resource__resource_type"):
        cls = get_registry().job_class(output.run_job.job_name)
        calls[cls.name] = (settings_for_job(output.run_job.job_settings, cls.settings), output.resource.resource_type.mimetype)
    return calls


def pool_page(task):
    """One page through the batch's jobs in a pool process, as a worker calls them: file in, file out.

    Returns the seconds spent inside the jobs' ``run_my_task``.
    """
    from rodan.jobs.registry import get_registry

    source, mimetype, folder, calls = task
    busy = 0.0
    for index, (name, out_port) in enumerate(BATCH_JOBS):
        arguments, out_type = calls[name]
        target = os.path.join(folder, f"{Path(source).stem}-{index}")
        job = get_registry().job_class(name)()
        started = time.perf_counter()
        job.run_my_task(
            {BATCH_INPUT_PORT: [{"resource_path": source, "resource_type": mimetype, "resource_name": Path(source).stem}]},
            dict(arguments),
            {out_port: [{"resource_path": target, "resource_type": out_type}]},
        )
        busy += time.perf_counter() - started
        source, mimetype = target, out_type
    return busy


def measure_pool(pages_dir, calls, warmup_pages):
    """The peer: a ``multiprocessing.Pool`` of 2 processes running the same jobs over the same pages.

    Each task is one page through the three jobs; a warm-up over the first
    pages makes both processes import the jobs first, as the engine's warm-up does.
    """
    import tempfile

    from django.db import connections

    from rodan.identify import identify

    connections.close_all()  # forked processes must not share the parent's database connection
    pages = sorted(Path(pages_dir).glob("*.png"))
    with tempfile.TemporaryDirectory(prefix="rodan-bench-pool-") as folder, multiprocessing.Pool(2) as pool:
        tasks = [(str(page), identify(page), folder, calls) for page in pages]
        pool.map(pool_page, tasks[:warmup_pages] * 2, chunksize=1)
        started = time.perf_counter()
        busy = sum(pool.imap_unordered(pool_page, tasks, chunksize=1))
        wall = time.perf_counter() - started
    return {"pages": len(pages), "jobs": len(BATCH_JOBS), "workers": 2, "run_jobs": len(pages) * len(BATCH_JOBS),
            "wall": wall, "busy": busy}


def measure_batch(workers, pages_dir, warmup_pages):
    """A batch of every page in ``pages_dir`` through the 3-job chain on 2 fresh workers.

    A small warm-up batch first makes both workers' pool processes import the
    image job family, so the timed batch measures steady state. Returns the
    batch's numbers and the jobs' calls (for the pool peer).
    """
    from rodan.models import RunJob

    workers.start_all([(f"batch{i}", ["celery", "Python3", "GPU"], None) for i in (1, 2)])
    project = make_project()
    workflow = batch_workflow(project)
    pages = [upload_file(project, path) for path in sorted(Path(pages_dir).glob("*.png"))]
    wait_run(start_run(workflow, pages[:warmup_pages]), timeout=300, interval=0.05)
    messages_before = workers.messages_received("batch")

    started = time.time()
    run = start_run(workflow, pages)
    wait_run(run, timeout=600, interval=0.05)
    run_jobs = list(RunJob.objects.filter(workflow_run=run).values_list("started_at", "finished_at"))
    workers.stop_all()
    messages = workers.messages_received("batch") - messages_before
    return {
        "pages": len(pages),
        "jobs": len(BATCH_JOBS),
        "workers": 2,
        "run_jobs": len(run_jobs),
        "wall": max(f for _, f in run_jobs).timestamp() - started,
        "busy": sum((f - s).total_seconds() for s, f in run_jobs),
        "messages": messages,
    }, job_calls(run)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result", required=True, help="JSON file to write the raw numbers to")
    parser.add_argument("--ping-backend", required=True, help="Celery result backend URL for rodan.ping")
    parser.add_argument("--pages-dir", help="folder of page PNGs for the batch (no batch when absent)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--warmup-pages", type=int, default=2)
    parser.add_argument("--gap", type=float, required=True, help="seconds of quiet after each ping and no-op run")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_django()
    from django.conf import settings

    workers = Workers(Path(settings.DATA_DIR) / "logs")
    try:
        result = {"overhead": measure_overhead(workers, args.runs, args.warmup, args.ping_backend, args.gap)}
        if args.pages_dir:
            result["batch"], calls = measure_batch(workers, args.pages_dir, args.warmup_pages)
            result["pool"] = measure_pool(args.pages_dir, calls, args.warmup_pages)
    finally:
        workers.stop_all()
    Path(args.result).write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
