"""Engine benchmark: per-job overhead and batch throughput, on each backend.

    .venv/bin/python -m bench.engine [--runs 30] [--pages 50] [--backends services,embedded]

Prints Markdown tables. For each backend it creates a private database and
broker (a PostgreSQL database and a RabbitMQ virtual host, or a temporary
data folder for SQLite and the filesystem broker), runs ``bench.engine_child``
in a subprocess with that backend's environment (Django reads its settings
once, at start-up), and removes everything afterwards. The machine is shared
and noisy, so every engine figure is set beside a peer measured in the same
run: the no-op job beside a bare Celery round trip, the batch's wall time
beside the ideal computed from its own job times.
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("RODAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("RODAN_BENCH_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
BACKEND_TITLES = {
    "services": "RabbitMQ + PostgreSQL",
    "embedded": "embedded (SQLite + filesystem broker)",
}
#: Where each backend's rodan.ping results travel: over the broker, or as files (no server needed).
PING_BACKEND_NAMES = {"services": "rpc://", "embedded": "file://"}
#: Seconds of quiet after each ping + no-op pair, so both workers start every measurement idle.
IDLE_GAP = {"services": 0.1, "embedded": 0.1}


def page_image(seed, width, height):
    """A synthetic scanned page: off-white paper with grain, staves and dark marks.

    Generated rather than stored so the repository carries no large files;
    the grain keeps PNG decoding and encoding from being unrealistically cheap.
    """
    rng = np.random.default_rng(seed)
    grey = rng.integers(215, 240, size=(height, width), dtype=np.uint8)
    for top in range(height // 16, height - 80, height // 12):
        for line in range(5):
            grey[top + 12 * line : top + 12 * line + 2, width // 20 : width - width // 20] = 40
        for x in rng.integers(width // 20, width - width // 20 - 14, size=30):
            y = top + int(rng.integers(0, 48))
            grey[y : y + 10, x : x + 14] = 25
    tint = np.array([1.0, 0.96, 0.88])
    return (grey[..., None] * tint).astype(np.uint8)


def write_pages(folder, count, width, height):
    """``count`` RGB page PNGs in ``folder``, the same ones for every backend."""
    for index in range(count):
        Image.fromarray(page_image(index, width, height)).save(folder / f"page{index:03d}.png", compress_level=1)


def base_env(data_dir):
    """The environment every process of one backend shares; no inherited backend settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "CELERY_RESULT_BACKEND")}
    env.update(
        RODAN_DATA_DIR=str(data_dir),
        # Viewer tiles of every output would be extra work for the same workers: not the engine's.
        RODAN_EAGER_TILES="0",
        DJANGO_SETTINGS_MODULE="rodan.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def services_problem():
    """Why PostgreSQL or RabbitMQ cannot be used, or None."""
    import psycopg
    from kombu import Connection

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
        with Connection(RABBITMQ_URL + "//", connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def services_backend(data_dir):
    """A private PostgreSQL database and RabbitMQ vhost, dropped on the way out."""
    import psycopg

    name = f"rodan_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], check=True, capture_output=True
        )
        env = base_env(data_dir)
        env.update(
            DATABASE_URL=POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}",
            CELERY_BROKER_URL=f"{RABBITMQ_URL}/{name}",
        )
        yield env, "rpc://"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def embedded_backend(data_dir):
    """SQLite and the filesystem broker in ``data_dir``; rodan.ping results as files there."""
    yield base_env(data_dir), f"file://{data_dir / 'ping-results'}"


def measure_backend(backend, args, pages_dir):
    """Run ``bench.engine_child`` for one backend; its raw numbers, as a dict."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"rodan-bench-{backend}-"))
    (data_dir / "ping-results").mkdir()
    setup = services_backend if backend == "services" else embedded_backend
    try:
        with setup(data_dir) as (env, ping_backend):
            result_file = data_dir / "result.json"
            command = [
                sys.executable, "-m", "bench.engine_child",
                "--result", str(result_file),
                "--ping-backend", ping_backend,
                "--runs", str(args.runs),
                "--warmup", str(args.warmup),
                "--gap", str(args.gap if args.gap is not None else IDLE_GAP[backend]),
            ]  # fmt: skip
            if pages_dir is not None:
                command += ["--pages-dir", str(pages_dir)]
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                logs = "".join(p.read_text(errors="replace")[-2000:] for p in sorted((data_dir / "logs").glob("*.log")))
                raise RuntimeError(f"{backend} measurement failed:\n{done.stderr[-4000:]}\nworker logs:\n{logs}")
            return json.loads(result_file.read_text())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def ms(values):
    """``p50 / p95`` of ``values`` (seconds) in milliseconds."""
    p95 = statistics.quantiles(values, n=20, method="inclusive")[-1]
    return f"{statistics.median(values) * 1000:.0f} / {p95 * 1000:.0f}"


def overhead_table(results, args):
    """The per-job overhead table, one column per backend."""
    backends = list(results)
    rows = [
        ("bare Celery round trip: `rodan.ping` sent → result back", lambda r: ms(r["ping"])),
        ("no-op job: `create_run` returned → run Finished (4) seen", lambda r: ms(r["noop"]["client"])),
        ("no-op RunJob: dispatched_at → finished_at (database clocks)", lambda r: ms(r["noop"]["dispatch_to_finish"])),
        ("… of which dispatched_at → started_at (broker, pick-up, claim)", lambda r: ms(r["noop"]["pickup"])),
        ("… of which started_at → finished_at (inputs, job, outputs, finish)", lambda r: ms(r["noop"]["in_worker"])),
        ("`create_run` itself (expansion, scheduling, send)", lambda r: ms(r["noop"]["create_run"])),
        (
            "**ratio** no-op job / bare round trip (p50)",
            lambda r: f"{statistics.median(r['noop']['client']) / statistics.median(r['ping']):.1f}×",
        ),
    ]
    lines = [
        "### Engine overhead per job (milliseconds, p50 / p95)",
        "",
        f"{args.runs} runs per backend after {args.warmup} warm-ups; pings and no-op runs interleaved, each pair "
        "followed by a quiet gap (" + ", ".join(f"{results[b]['overhead']['gap']} s {b}" for b in backends) + ") "
        "so every measurement starts on idle workers. No-op job: \"Hello World - Python3\" over one tiny text "
        "resource on one worker (concurrency 1); round trip: a second worker on its own queue, results via "
        + ", ".join(f"`{PING_BACKEND_NAMES[b]}` ({b})" for b in backends) + ".",
        "",
        "| measure | " + " | ".join(BACKEND_TITLES[b] for b in backends) + " |",
        "|---|" + "---:|" * len(backends),
    ]
    lines += [f"| {label} | " + " | ".join(cell(results[b]["overhead"]) for b in backends) + " |" for label, cell in rows]
    return lines


def batch_row(label, b, messages="–", versus=""):
    ideal = b["busy"] / b["workers"]
    idle = (b["wall"] * b["workers"] - b["busy"]) / b["run_jobs"]
    return (
        f"| {label} | {b['pages']} | {b['run_jobs']} | {messages} | {b['workers']} | {b['wall']:.1f} | {b['busy']:.1f} | "
        f"{ideal:.1f} | **{ideal / b['wall']:.0%}** | {idle * 1000:.0f} | {versus} |"
    )


def batch_table(results):
    """The batch throughput table: per backend, the engine and its peer, the pool, measured right after it."""
    lines = [
        "### Batch throughput: 3-job chain (To greyscale PNG → To one-bit PNG → Resize image)",
        "",
        "| backend | pages | RunJobs | messages | workers | wall (s) | sum of job time (s) | ideal (s) | efficiency "
        "| idle per RunJob (ms) | throughput / pool's |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, result in results.items():
        b, pool = result["batch"], result["pool"]
        lines.append(batch_row(BACKEND_TITLES[backend], b, b["messages"], f"**{pool['wall'] / b['wall']:.2f}×**"))
        lines.append(batch_row("… its peer: `multiprocessing.Pool(2)`", pool))
    lines += [
        "",
        "wall = run created → last RunJob finished_at (pool: first page submitted → last page done); sum of job "
        "time = Σ (finished_at − started_at), engine work inside the worker included (pool: Σ of the jobs' "
        "`run_my_task` calls); ideal = sum / workers; efficiency = ideal / wall; idle per RunJob = (wall × workers "
        "− sum) / RunJobs; messages = engine messages the workers received; throughput / pool's = pool wall / "
        "engine wall, the pool measured in the same process right after the engine's batch.",
    ]
    return lines


def header(args):
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    command = " ".join([python, "-m", "bench.engine", *sys.argv[1:]])
    return [
        "## Engine benchmark",
        "",
        f"Command: `{command}` · machine: {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()} · page images {args.page_size} px",
        "",
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed no-op runs and pings per backend (default 30)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs and pings first (default 2)")
    parser.add_argument(
        "--gap", type=float, help="seconds of quiet between no-op runs (default 0.1)"
    )
    parser.add_argument("--pages", type=int, default=50, help="pages in the batch; 0 skips it (default 50)")
    parser.add_argument("--page-size", default="1200x1600", help="page images, WIDTHxHEIGHT (default 1200x1600)")
    parser.add_argument(
        "--backends", default="services,embedded", help="comma-separated: services, embedded (default both)"
    )
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    unknown = set(args.backends) - set(BACKEND_TITLES)
    if unknown or args.runs < 2:
        parser.error(f"unknown backends {sorted(unknown)}" if unknown else "--runs must be at least 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    notes = []
    if "services" in args.backends and (problem := services_problem()):
        args.backends.remove("services")
        notes.append(f"RabbitMQ + PostgreSQL skipped: {problem}")
    with tempfile.TemporaryDirectory(prefix="rodan-bench-pages-") as folder:
        pages_dir = None
        if args.pages:
            pages_dir = Path(folder)
            width, height = (int(n) for n in args.page_size.split("x"))
            write_pages(pages_dir, args.pages, width, height)
        results = {}
        for backend in args.backends:
            started = time.monotonic()
            print(f"bench: measuring {backend}...", file=sys.stderr, flush=True)
            results[backend] = measure_backend(backend, args, pages_dir)
            print(f"bench: {backend} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    lines = header(args) + overhead_table(results, args)
    if args.pages:
        lines += [""] + batch_table(results)
    print("\n".join(lines + [""] + [f"Note: {n}" for n in notes]).rstrip())


if __name__ == "__main__":
    main()
