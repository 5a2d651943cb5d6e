"""Neon benchmark: opening a ten-system page and editing it, in Debian chromium.

    .venv/bin/python -m bench.neon [--opens 3] [--edits 30] [--others 6]

Starts ``rodan up`` (web app, one worker, scheduler) on the embedded backend
in a temporary data folder, runs a one-job workflow (Neon) over the
ten-system fixture (tests/neon/fixtures/ad_te_levavi_mei5.mei, 436 zones)
and a page image the size of its surface, and opens the working URL in
Debian chromium through Playwright (headless, the flags of
tests/support/browser.py). The first opening makes the page's tiles and is
not counted; then the page is opened ``--opens`` times and each time the
page's own performance marks are read (time from navigation to the neumes
drawn and to ready, and verovio's start in its worker). Then ``--edits``
components are moved a step up or down by the keyboard, and ``--others``
times a punctum is inserted on a staff and deleted and a syllable's text is
changed, each timed by the page from the key (or click) to the right drawing
in the page and painted (window.neon.renderParts: a move drawn at once counts
only when verovio's following rendering changed nothing in it), and the next
autosave request's size is taken. Prints a Markdown table. It measures;
it asserts nothing beyond "the page opened and every edit was drawn".

Needs the page built (``make frontend``) and Debian's chromium.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "neon" / "fixtures" / "ad_te_levavi_mei5.mei"
BUILT = ROOT / "jobs" / "neon" / "static" / "build" / "neon.js"
MARKS = ["neon-tiles-ready", "neon-first-render", "neon-first-view", "neon-ready"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def waiting_run():
    """A Neon run on the fixture, waiting for its user: (user's email, RunJob id)."""
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from builders import graph_document, make_project, upload, valid_workflow, wait_for
    from neon_pages import staff_page_image

    from rodan.engine.expansion import create_run
    from rodan.models import InputPort, RunJob
    from rodan.models.status import RunJobStatus

    project = make_project("neon bench")
    workflow = valid_workflow(project, graph_document({"neon": ("Neon", {}, {"MEI": None, "Image": None}, ["Corrected"])}))
    folder = Path(tempfile.mkdtemp(prefix="rodan-neon-page-"))
    assignments = {}
    for port in InputPort.objects.filter(workflow_job__workflow=workflow, extern=True):
        assignments[port] = ([upload(project, FIXTURE, "folio MEI", "application/mei+xml")]
                             if port.input_port_type.name == "MEI"
                             else [upload(project, staff_page_image(FIXTURE, folder), "folio", "image/rgb+png")])
    shutil.rmtree(folder, ignore_errors=True)
    run = create_run(workflow, assignments)
    run_job = wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                       timeout=180, what="Neon to wait for its user")
    return project.creator.email, run_job.pk


def measure(url, opens, edits, others, trace=None):
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from browser import CHROMIUM, CHROMIUM_ARGS

    puts = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        def saved(request):  # the autosaves, not the lock's claims
            body = request.post_data_buffer or b""
            if request.method == "PUT" and b'"mei"' in body:
                puts.append(len(body))

        context.on("request", saved)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-neon=ready]", timeout=180_000)  # the worker makes the tiles first
        if trace:  # one more opening, recorded for chromium's performance panel
            browser.start_tracing(page=page, path=trace, categories=["devtools.timeline", "v8.execute", "disabled-by-default-devtools.timeline"])
            page.reload()
            page.wait_for_selector("body[data-neon=ready]", timeout=60_000)
            browser.stop_tracing()
        openings = []
        for _ in range(opens):
            page.reload()
            page.wait_for_selector("body[data-neon=ready]", timeout=60_000)
            marks = page.evaluate(f"{MARKS!r}.map((name) => performance.getEntriesByName(name)[0]?.startTime ?? null)")
            parts = page.evaluate("window.neon.renderParts?.[0] ?? {}")
            openings.append({**dict(zip(MARKS, marks)), **parts})
        kinds = {}  # render number (1 = the opening's) -> the edit it drew

        def timed(kind, action):
            rendered = int(page.evaluate("document.body.dataset.rendered"))
            action()
            page.wait_for_function(f"Number(document.body.dataset.rendered) > {rendered}", timeout=30_000)
            kinds[int(page.evaluate("document.body.dataset.rendered"))] = kind

        def centre(ident):
            box = page.locator(f'#neon-overlay [id="{ident}"]').bounding_box()
            return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

        page.keyboard.press("c")
        ids = page.evaluate("[...document.querySelectorAll('#neon-overlay g.nc')].map((e) => e.id)")
        for index in range(edits):
            page.mouse.click(*centre(ids[(index * 7) % len(ids)]))
            timed("move", lambda: page.keyboard.press("ArrowUp" if index % 2 == 0 else "ArrowDown"))
        staves = page.evaluate("[...document.querySelectorAll('#neon-overlay g.staff')].map((e) => e.id)")
        for index in range(others):  # a punctum inserted on a staff and deleted; a syllable's text changed
            staff = page.locator(f'#neon-overlay [id="{staves[index % len(staves)]}"] > path').first.bounding_box()
            page.locator("#neon-insert-kind").select_option("punctum")
            page.locator("#neon-insert").click()
            timed("insert", lambda: page.mouse.click(staff["x"] + staff["width"] * (0.3 + 0.05 * index), staff["y"] + 2))
            page.keyboard.press("c")
            page.mouse.click(*centre(page.evaluate("document.querySelector('#neon-overlay g.nc[id^=\"m-nc-\"]').id")))
            timed("delete", lambda: page.keyboard.press("Delete"))
            page.keyboard.press("s")
            page.mouse.click(*centre(ids[(index * 11) % len(ids)]))
            page.locator("#neon-syl-text").fill(f"la{index}")
            timed("text", lambda: page.locator("#neon-syl-text").press("Enter"))
            page.keyboard.press("Escape")
        page.wait_for_selector("#neon-save[data-state=saved]", timeout=30_000)
        # a page without the breakdown (an older build) gives its totals
        every = page.evaluate("window.neon.renderParts ?? window.neon.renderTimes.map((total) => ({ total }))")
        parts = [{**every[number - 1], "kind": kind} for number, kind in sorted(kinds.items())]
        browser.close()
    return openings, parts, puts


def start_up(data, port, log):
    env = {**os.environ, "RODAN_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [sys.executable, "-m", "rodan.cli", "up", "--port", str(port), "--workers", "1", "--concurrency", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    import urllib.request

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ht/", timeout=2)
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"rodan up stopped; see {log.name}") from None
            time.sleep(0.3)
    raise RuntimeError(f"rodan up did not answer in 90 s; see {log.name}")


def row(name, values, unit="ms"):
    if not values:
        return f"| {name} | – | – | – |"
    return (f"| {name} | {statistics.median(values):.0f} {unit} | {percentile(values, 0.95):.0f} {unit} | "
            f"{max(values):.0f} {unit} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--opens", type=int, default=3, help="openings measured after the first")
    parser.add_argument("--edits", type=int, default=30, help="components moved a step, one render each")
    parser.add_argument("--others", type=int, default=6, help="punctums inserted and deleted, syllable texts changed: each")
    parser.add_argument("--trace", help="also record one opening as a chromium trace (JSON) at this path")
    parser.add_argument("--parts", help="also write every edit's breakdown (window.neon.renderParts) as JSON to this path")
    args = parser.parse_args()
    if not BUILT.exists():
        sys.exit("Neon's page is not built: run `make frontend` first.")
    data = Path(tempfile.mkdtemp(prefix="rodan-neon-bench-"))
    os.environ["RODAN_DATA_DIR"] = str(data)
    os.environ["DJANGO_SETTINGS_MODULE"] = "rodan.settings"
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    port = free_port()
    log = open(data.parent / f"{data.name}.log", "w")
    process = None
    try:
        import django
        from django.core.management import call_command

        from rodan.stack import prepare_data_dir

        prepare_data_dir(data)
        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        process = start_up(data, port, log)
        email, run_job = waiting_run()
        import requests

        url = requests.post(f"http://127.0.0.1:{port}/api/interactive/{run_job}/acquire/", auth=(email, "pw"),
                            headers={"Accept": "application/json"}, timeout=30).json()["working_url"]
        openings, parts, puts = measure(url, args.opens, args.edits, args.others, args.trace)
        if args.parts:
            Path(args.parts).write_text(json.dumps(parts, indent=1))
    finally:
        if process:
            os.killpg(process.pid, 15)
            process.wait(30)
        log.close()
        shutil.rmtree(data, ignore_errors=True)
    print(f"`python -m bench.neon {' '.join(sys.argv[1:])}`".replace(" `", "`") +
          f" ({os.cpu_count()} CPUs, Debian chromium headless, {FIXTURE.name}: 10 systems, 436 zones)\n")
    print("| measure | median | p95 | max |")
    print("|---|---|---|---|")
    print(row(f"open: navigation to neumes drawn ({len(openings)} openings)", [o["neon-first-render"] for o in openings]))
    print(row("open: navigation to ready (image shown too)", [o["neon-ready"] for o in openings]))
    print(row("open: navigation to the page asking verovio for the neumes", [o["requested"] for o in openings if "requested" in o]))
    print(row("open: navigation to verovio's worker running (its script fetched)", [o["workerStarted"] for o in openings if "workerStarted" in o]))
    print(row("open: verovio compiled and started in its worker", [o["startup"] for o in openings if "startup" in o]))
    print(row("open: first render, request to drawn", [o["total"] for o in openings if "total" in o]))
    print(row("open: first render, verovio reads the MEI", [o["load"] for o in openings if "load" in o]))
    print(row("open: first render, verovio draws the SVG", [o["draw"] for o in openings if "draw" in o]))
    print(row("open: first render, the SVG's way from the worker to the page", [o["delivered"] for o in openings if "delivered" in o]))
    print(row("open: first render, SVG into the page", [o["dom"] for o in openings if "dom" in o]))
    everything = parts
    for kind in ("move", "insert", "delete", "text"):
        some = [p for p in everything if p["kind"] == kind]
        print(row(f"{kind}: key to the right drawing on the page ({len(some)})", [p.get("sinceEdit", p["total"]) for p in some]))
        print(row(f"{kind}: key to the right drawing painted (the next frame)", [p["painted"] for p in some if "painted" in p]))
    print(row(f"every edit: key to the right drawing painted ({len(everything)})", [p["painted"] for p in everything if "painted" in p]))
    parts = [p for p in everything if p["kind"] == "move"]
    exact = [p for p in parts if p.get("previewExact")]
    print(row(f"move: drawn at once and found exact by verovio's rendering ({len(exact)} of {len(parts)})", [p["previewed"] for p in exact]))
    print(row("move: key to verovio's rendering drawn", [p.get("rendered", p["total"]) for p in parts]))
    print(row("every edit: verovio reads the MEI", [p["load"] for p in everything if "load" in p]))
    print(row("every edit: verovio draws the SVG", [p["draw"] for p in everything if "draw" in p]))
    print(row("every edit: SVG brought into the page", [p["dom"] for p in everything if "dom" in p]))
    print(row("every edit: off-line check and selection", [p["checks"] for p in everything if "checks" in p]))
    print(row(f"autosave request body ({len(puts)} requests)", [size / 1024 for size in puts], "KiB"))


if __name__ == "__main__":
    main()
