"""Web application benchmark: first load, list pages and the live run grid, in Debian's chromium.

    .venv/bin/python -m bench.app [--resources 1000] [--runs 200] [--pages 500] [--jobs 5] [--repeat 5]

Prints a Markdown table. It makes a private database (PostgreSQL, as
``bench.engine`` does; ``--backend embedded`` for SQLite), fills one project
through the ORM (``--resources`` page images sharing one small PNG file,
``--runs`` runs, one of them a ``--pages`` × ``--jobs`` run), serves it with
``rodan serve`` and measures with Playwright:

- the first load of ``/`` with an empty browser cache (navigation start →
  the projects heading drawn), ``--repeat`` fresh browser contexts;
- the resources and runs tabs (navigation start → the first page of rows
  drawn), with the app's files cached as after any earlier visit;
- the run page of the big run (navigation start → every cell of the grid
  drawn), then the time between frames (``requestAnimationFrame``) while
  every RunJob changes status twice through the event stream, beside the
  same page's frames while nothing happens.

The status changes are appended to the event log directly (as the lifecycle
would, without running jobs): the measure is the browser's, not the engine's.
Needs the built front end (``make frontend``) and /usr/bin/chromium.
"""

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from PIL import Image

from bench.engine import BACKEND_TITLES, embedded_backend, page_image, services_backend, services_problem

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
MANIFEST = ROOT / "rodan" / "static" / "frontend" / "manifest.json"
#: Status changes appended per batch, and the pause between batches (a busy run: hundreds of changes a second).
EVENT_BATCH = 100
EVENT_PAUSE = 0.1
IDLE_SECONDS = 3.0

# -- the project ---------------------------------------------------------------------------------


def populate(args, media_root):
    """One user and project with the resources and runs; returns what the browser needs."""
    from django.contrib.auth import get_user_model

    from rodan import storage
    from rodan.models import Project, Resource, ResourceType, RunJob, WorkflowRun

    user = get_user_model().objects.create_user("bench", "bench@example.org", "bench-password-1")
    project = Project.objects.create(name="Benchmark antiphoner", creator=user)
    png = ResourceType.objects.get(mimetype="image/rgb+png")
    media_root.mkdir(parents=True, exist_ok=True)
    sample = media_root / "bench-page.png"
    Image.fromarray(page_image(0, 600, 800)).save(sample, compress_level=1)
    resources = Resource.objects.bulk_create(
        Resource(name=f"folio {n:04d}", project=project, resource_type=png, creator=user) for n in range(args.resources)
    )
    for resource in resources:  # one file, linked in place for each: 1,000 real images in a second
        relative = storage.resource_relative_path(resource)
        (media_root / relative).parent.mkdir(parents=True, exist_ok=True)
        os.link(sample, media_root / relative)
        resource.resource_file = relative
    Resource.objects.bulk_update(resources, ["resource_file"])
    runs = WorkflowRun.objects.bulk_create(
        WorkflowRun(project=project, creator=user, name=f"Run {n:03d}") for n in range(args.runs)
    )
    big = runs[-1]
    jobs = [(uuid.uuid4().hex, f"Job {chr(65 + j)}") for j in range(args.jobs)]
    run_jobs = RunJob.objects.bulk_create(
        RunJob(workflow_run=big, workflow_job_uuid=wj, resource_uuid=resource.uuid.hex, job_name=name)
        for resource in resources[: args.pages]
        for wj, name in jobs
    )
    return {
        "token": user.auth_token.key,
        "project": str(project.uuid),  # the API's item routes take hyphenated uuids
        "run": str(big.uuid),
        "run_jobs": [(rj.uuid, rj.job_name) for rj in run_jobs],
    }


def push_statuses(project, run, run_jobs, statuses, done):
    """Append a ``runjob`` event per RunJob and status, in batches (another thread: Playwright owns this one)."""
    from django.db import connection

    from rodan.engine import events
    from rodan.models import Event

    try:
        for status in statuses:
            for start in range(0, len(run_jobs), EVENT_BATCH):
                events.record_many([
                    Event(kind="runjob", object_uuid=pk, project_uuid=uuid.UUID(project), status=status,
                          data={"workflow_run": uuid.UUID(run).hex, "job_name": name})
                    for pk, name in run_jobs[start : start + EVENT_BATCH]
                ])  # fmt: skip
                time.sleep(EVENT_PAUSE)
        done["pushed"] = time.monotonic()
    finally:
        connection.close()


# -- the server ----------------------------------------------------------------------------------


@contextlib.contextmanager
def served(env, log_path):
    """``rodan serve`` on a free port with the benchmark's environment; yields its base URL."""
    import socket

    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "rodan.cli", "serve", "--port", str(port)],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/api/ht/", timeout=2).status_code == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rodan serve did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- the browser ---------------------------------------------------------------------------------

#: Resolves to ``performance.now()`` (ms since navigation start) in the first frame where ``selector`` matches ``count`` elements.
DRAWN = """([selector, count]) => document.querySelectorAll(selector).length >= count ? performance.now() : false"""

RECORD_FRAMES = """() => {
  window.__frames = [];
  window.__recording = true;
  let last = performance.now();
  const tick = (now) => {
    window.__frames.push(now - last);
    last = now;
    if (window.__recording) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
STOP_FRAMES = """() => { window.__recording = false; return window.__frames.slice(1); }"""


def drawn_after_navigation(page, url, selector, count=1, timeout=120_000):
    page.goto(url, wait_until="commit")
    try:
        return page.wait_for_function(DRAWN, arg=[selector, count], polling="raf", timeout=timeout).json_value()
    except Exception:
        print(f"bench: {url} never drew {count} × {selector}; it showed:\n{page.locator('body').inner_text()[:2000]}", file=sys.stderr)
        raise


def context_for(browser, base, token):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "token", "value": token, "url": base}])
    return context


def measure(base, data, args):
    from playwright.sync_api import sync_playwright

    figures = {}
    project_tab = f"{base}/projects/{data['project']}"
    cells = args.pages * args.jobs
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        first = []
        for _ in range(args.repeat):
            with contextlib.closing(context_for(browser, base, data["token"])) as context:
                first.append(drawn_after_navigation(context.new_page(), f"{base}/", "main h1"))
        figures["first_load"] = first

        context = context_for(browser, base, data["token"])
        page = context.new_page()
        drawn_after_navigation(page, f"{base}/", "main h1")  # the app's files cached from here on
        figures["resources"] = [drawn_after_navigation(page, f"{project_tab}/resources", "#table-resources tbody tr")]
        figures["thumbnails"] = page.wait_for_function(
            "() => { const imgs = [...document.querySelectorAll('#table-resources img')]"
            ".filter((i) => i.getBoundingClientRect().top < innerHeight);"  # the others wait (loading=lazy)
            " return imgs.length && imgs.every((i) => i.complete && i.naturalWidth) ? performance.now() : false }",
            polling="raf", timeout=120_000,
        ).json_value()  # fmt: skip
        figures["resources"] += [
            drawn_after_navigation(page, f"{project_tab}/resources", "#table-resources tbody tr") for _ in range(args.repeat - 1)
        ]
        figures["resource_rows"] = page.locator("#table-resources tbody tr").count()
        figures["runs"] = [drawn_after_navigation(page, f"{project_tab}/runs", "#table-runs tbody tr") for _ in range(args.repeat)]
        figures["run_rows"] = page.locator("#table-runs tbody tr").count()

        figures["grid_first"] = drawn_after_navigation(page, f"{base}/runs/{data['run']}", "button.cell")
        figures["grid"] = page.wait_for_function(DRAWN, arg=["button.cell", cells], polling="raf", timeout=300_000).json_value()
        page.wait_for_function("() => document.querySelector('.run-head')?.textContent.includes('Live')", timeout=60_000)
        page.evaluate(RECORD_FRAMES)
        time.sleep(IDLE_SECONDS)
        figures["idle_frames"] = page.evaluate(STOP_FRAMES)

        done = {}
        pusher = threading.Thread(
            target=push_statuses, args=(data["project"], data["run"], data["run_jobs"], (1, 4), done)
        )
        page.evaluate(RECORD_FRAMES)
        started = time.monotonic()
        pusher.start()
        page.wait_for_function(
            "(count) => document.querySelectorAll(\"button.cell[data-status='4']\").length === count",
            arg=cells, polling=250, timeout=300_000,
        )  # fmt: skip
        seen = time.monotonic()
        figures["busy_frames"] = page.evaluate(STOP_FRAMES)
        pusher.join()
        figures["events"] = 2 * len(data["run_jobs"])
        figures["push_seconds"] = done["pushed"] - started
        figures["lag_after_last"] = seen - done["pushed"]
        context.close()
        browser.close()
    figures["server"] = server_times(base, data, args)
    return figures


def server_times(base, data, args):
    """The server's share (ms): the same API requests the pages make, from here, one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    headers = {"Authorization": f"Token {data['token']}", "Accept": "application/json"}

    def timed(*urls):
        started = time.monotonic()
        for url in urls:
            requests.get(base + url, headers=headers, timeout=120).raise_for_status()
        return (time.monotonic() - started) * 1000

    project, run = data["project"], data["run"]
    common = ["/api/auth/me/", f"/api/projects/?uuid={project}"]
    pages = -(-args.pages * args.jobs // 100)
    runjobs = f"/api/runjobs/?workflow_run={run}&page_size=100&page="
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: timed(runjobs + str(n)), range(1, pages + 1)))
    return {
        "resources": timed(*common, f"/api/resources/?project={project}&page=1&ordering=-created"),
        "runs": timed(*common, f"/api/workflowruns/?project={project}&ordering=-created&page=1"),
        "runjobs": (time.monotonic() - started) * 1000,
        "runjob_pages": pages,
    }


# -- the report ----------------------------------------------------------------------------------


def p50_p95(values):
    p95 = statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    return f"{statistics.median(values):.0f} / {p95:.0f}"


def frames(values):
    long = sum(1 for v in values if v > 50)
    return f"{statistics.median(values):.1f} / {statistics.quantiles(values, n=20, method='inclusive')[-1]:.1f} / {max(values):.0f} ms, {long} over 50 ms of {len(values)}"


def report(figures, args, backend):
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
    command = " ".join([python, "-m", "bench.app", *sys.argv[1:]])
    cells = args.pages * args.jobs
    server = figures["server"]
    return [
        "## Web application benchmark",
        "",
        f"Command: `{command}` · machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
        f" · Debian chromium, headless · {BACKEND_TITLES[backend]} · one project of {args.resources} resources and"
        f" {args.runs} runs · {args.repeat} repeats",
        "",
        "| measure (navigation start → drawn, ms) | p50 / p95 | server's share (its API requests from Python, ms) |",
        "|---|---:|---:|",
        f"| first load of `/`, empty browser cache (projects page drawn) | {p50_p95(figures['first_load'])} | |",
        f"| resources tab: first page ({figures['resource_rows']} rows) drawn | {p50_p95(figures['resources'])}"
        f" | {server['resources']:.0f} (me, project, first page, in turn) |",
        f"| … the thumbnails in the window all loaded (first visit: made by the server) | {figures['thumbnails']:.0f} | |",
        f"| runs tab: first page ({figures['run_rows']} rows) drawn | {p50_p95(figures['runs'])}"
        f" | {server['runs']:.0f} (me, project, first page, in turn) |",
        f"| run page of {args.pages} pages × {args.jobs} jobs: first cells of the grid drawn | {figures['grid_first']:.0f} | |",
        f"| … all {cells} cells drawn (RunJobs read 100 a page, 4 pages at a time) | {figures['grid']:.0f}"
        f" | {server['runjobs']:.0f} (the {server['runjob_pages']} pages, 4 at a time) |",
        "",
        "| run grid frames (requestAnimationFrame deltas) | p50 / p95 / max, long frames |",
        "|---|---:|",
        f"| idle, {IDLE_SECONDS:.0f} s | {frames(figures['idle_frames'])} |",
        f"| {figures['events']} status events over {figures['push_seconds']:.1f} s ({figures['events'] / figures['push_seconds']:.0f}/s)"
        f" | {frames(figures['busy_frames'])} |",
        "",
        f"Last event appended → every cell shows it: {figures['lag_after_last'] * 1000:.0f} ms (checked every 250 ms).",
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000, help="resources in the project (default 1000)")
    parser.add_argument("--runs", type=int, default=200, help="runs in the project (default 200)")
    parser.add_argument("--pages", type=int, default=500, help="pages of the big run (default 500)")
    parser.add_argument("--jobs", type=int, default=5, help="jobs per page of the big run (default 5)")
    parser.add_argument("--repeat", type=int, default=5, help="measurements of each page load (default 5)")
    parser.add_argument("--backend", choices=sorted(BACKEND_TITLES), default="services", help="database (default services)")
    args = parser.parse_args(argv)
    if args.pages > args.resources or args.runs < 1 or args.repeat < 1:
        parser.error("--pages cannot exceed --resources; --runs and --repeat must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not MANIFEST.exists() or not os.path.exists(CHROMIUM):
        sys.exit("bench.app needs the built front end (make frontend) and Debian's chromium (/usr/bin/chromium).")
    if args.backend == "services" and (problem := services_problem()):
        sys.exit(f"PostgreSQL or RabbitMQ cannot be used ({problem}): try --backend embedded.")
    data_dir = Path(tempfile.mkdtemp(prefix="rodan-bench-app-"))
    setup = services_backend if args.backend == "services" else embedded_backend
    try:
        with setup(data_dir) as (env, _):
            os.environ.update(env)
            import django
            from django.conf import settings
            from django.core.management import call_command

            django.setup()
            print("bench: migrating and filling the project...", file=sys.stderr, flush=True)
            call_command("migrate", verbosity=0)
            data = populate(args, Path(settings.MEDIA_ROOT))
            from django.db import connection

            connection.close()
            print("bench: measuring in chromium...", file=sys.stderr, flush=True)
            with served(env, data_dir / "web.log") as base:
                figures = measure(base, data, args)
            from django.db import connections

            connections.close_all()  # the private database is dropped next
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print("\n".join(report(figures, args, args.backend)))


if __name__ == "__main__":
    main()
