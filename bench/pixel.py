"""Pixel benchmark: the re-run on a 100-megapixel page with 7 layers, and the size of autosave bodies.

    .venv/bin/python -m bench.pixel [--size 8000x12500] [--layers 7] [--repeat 1]
    .venv/bin/python -m bench.pixel --tree /tmp/pixel-before     # another checkout's job (git worktree add)
    .venv/bin/python -m bench.pixel --profile                     # cProfile of one re-run, top 25 by own time

A seeded RGB page (paper grain, staves, text lines, neumes; generated and
cached in the temporary folder, not stored) and a seeded edit list as the
page sends it: the whole page selected, then on each layer brush strokes of
20-400 points (mouse-move spacing), rectangles, lassos, erasing strokes;
layer 7 has a fill of the paper around a seed, layer 2 a paste of a
rectangle of layer 1. The job's own ``run_my_task`` runs in a child process
(``--child``) on that submission, as the worker calls it, writing the ZIP
and every output. Reported: the re-run's wall time, and the child's peak
resident memory (``ru_maxrss``, the interpreter and its libraries included)
against one RGBA copy of the page (width × height × 4 bytes); also the
peak above the child's memory just before the run.

Autosave: each stroke is one save body as the page sends it
(``{"editor", "version", "append": [{"a": "add", "op": ...}]}``); a body
holds what was drawn in the 2 s before it, so the bodies of three strokes
together are shown too.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 20
GOAL_RGBA_COPIES = 3
GOAL_BODY_BYTES = 50_000


def make_page(path, width, height, seed=14):
    """A page of paper grain with staves, text lines and neume-like marks, written as an RGB PNG."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    page = np.empty((height, width, 3), np.uint8)
    paper = np.array([190, 215, 225], np.float32)  # BGR, as OpenCV writes
    for top in range(0, height, 500):  # grain in strips: a float array of the whole page would be 1.2 GB
        rows = min(500, height - top)
        grain = rng.normal(0, 6, (rows, width, 1)).astype(np.float32)
        page[top:top + rows] = np.clip(paper + grain, 0, 255).astype(np.uint8)
    ink = (40, 45, 60)
    margin = width // 12
    for staff_top in range(height // 20, height - height // 10, height // 14):
        for line in range(4):
            y = staff_top + line * (height // 180)
            cv2.line(page, (margin, y), (width - margin, y), ink, max(2, height // 2500))
        for _ in range(60):  # neumes on the staff
            x = int(rng.integers(margin, width - margin))
            y = staff_top + int(rng.integers(0, 4 * (height // 180)))
            cv2.rectangle(page, (x, y), (x + height // 200, y + height // 250), ink, -1)
        text_y = staff_top + 5 * (height // 180)
        for _ in range(25):  # a line of text under the staff
            x = int(rng.integers(margin, width - margin))
            cv2.rectangle(page, (x, text_y), (x + int(rng.integers(40, 200)), text_y + height // 150), ink, -1)
    cv2.imwrite(str(path), page, [cv2.IMWRITE_PNG_COMPRESSION, 1])


def _walk(rng, width, height, count, step):
    """A mouse path: ``count`` points, each a few pixels from the last, inside the page."""
    import numpy as np

    x, y = rng.integers(0, width), rng.integers(0, height)
    heading = rng.uniform(0, 2 * np.pi)
    points = []
    for _ in range(count):
        heading += rng.normal(0, 0.25)
        x = int(min(max(x + step * np.cos(heading), 0), width - 1))
        y = int(min(max(y + step * np.sin(heading), 0), height - 1))
        points += [x, y]
    return points


def _lasso(rng, width, height):
    import numpy as np

    margin = min(500, width // 4, height // 4)
    cx, cy = rng.integers(margin, width - margin), rng.integers(margin, height - margin)
    radius = rng.uniform(0.2, 0.9) * margin
    count = int(rng.integers(40, 200))
    points = []
    for k in range(count):
        angle = 2 * np.pi * k / count
        r = radius * rng.uniform(0.7, 1.0)
        points += [int(min(max(cx + r * np.cos(angle), 0), width - 1)),
                   int(min(max(cy + r * np.sin(angle), 0), height - 1))]
    return points


def make_operations(width, height, layers, seed=14):
    """The edit list of a session on every layer, as the page sends it (region first)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ops = [{"layer": "region", "tool": "rect", "points": [0, 0, width, height]}]
    for layer in range(1, layers + 1):
        for _ in range(30):
            ops.append({"layer": layer, "tool": "brush", "size": int(rng.integers(4, 60)),
                        "points": _walk(rng, width, height, int(rng.integers(20, 400)), float(rng.uniform(2, 20)))})
        span = min(800, width // 4, height // 4)
        for _ in range(5):
            x, y = int(rng.integers(0, width - span)), int(rng.integers(0, height - span))
            ops.append({"layer": layer, "tool": "rect",
                        "points": [x, y, x + int(rng.integers(20, span)), y + int(rng.integers(20, span))]})
        for _ in range(3):
            ops.append({"layer": layer, "tool": "poly", "points": _lasso(rng, width, height)})
        for _ in range(5):
            ops.append({"layer": layer, "tool": "brush", "size": int(rng.integers(10, 80)), "erase": True,
                        "points": _walk(rng, width, height, int(rng.integers(20, 200)), float(rng.uniform(2, 20)))})
        if layer == 2:
            x, y = width // 4, height // 4
            ops.append({"layer": 2, "tool": "paste", "from_layer": 1, "rect": [x, y, x + width // 3, y + height // 5],
                        "dx": width // 5, "dy": height // 3})
        if layer == 7:
            ops.append({"layer": 7, "tool": "fill", "x": 20, "y": 20, "tolerance": 12})
    return ops


def autosave_bodies(ops):
    """Bytes of each one-stroke save body, and of bodies holding three strokes, as the page's JSON."""
    def body(entries):
        document = {"editor": "e" * 32, "version": 123, "append": [{"a": "add", "op": op} for op in entries]}
        return len(json.dumps(document, separators=(",", ":")).encode())

    strokes = [op for op in ops if op["tool"] in ("brush", "poly", "rect")]
    one = sorted(body([op]) for op in strokes)
    three = sorted(body(strokes[i:i + 3]) for i in range(0, len(strokes) - 2, 3))
    return one, three


def child(page, ops_path, out_dir, profile):
    """Run the job's re-run once (in this process) and print its figures as JSON."""
    sys.path.insert(0, os.getcwd())
    from rodan.jobs.pixel.pixel import LAYER_OUTPUT, Pixel

    operations = json.loads(Path(ops_path).read_text())
    layers = max(op["layer"] for op in operations if op["layer"] != "region")
    inputs = {"Image": [{"resource_path": page, "resource_type": "image/rgb+png", "resource_name": "page"}]}
    ports = ["ZIP", "Background", "Region"] + [LAYER_OUTPUT.format(n) for n in range(1, layers + 1)]
    outputs = {port: [{"resource_path": os.path.join(out_dir, port),
                       "resource_type": "application/zip" if port == "ZIP" else "image/rgba+png"}] for port in ports}
    settings = {"@done": True, "@layers": layers, "@operations": operations}
    before = memory("VmRSS")
    threads = ThreadTimes()
    started = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(Pixel().run_my_task, inputs, settings, outputs)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    else:
        Pixel().run_my_task(inputs, settings, outputs)
    seconds = time.perf_counter() - started
    peak = memory("VmHWM")
    busiest = threads.stop()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    sizes = {port: os.path.getsize(os.path.join(out_dir, port)) for port in ports}
    print(json.dumps({"seconds": seconds, "cpu": cpu.ru_utime + cpu.ru_stime, "busiest": busiest,
                      "rss_before": before, "rss_peak": peak, "sizes": sizes}))


class ThreadTimes:
    """The CPU seconds of this process's busiest thread, sampled from /proc every 0.1 s until ``stop``.

    On a machine with a core free for each thread, the re-run's wall time is
    about that thread's CPU time; on a loaded machine the wall time is not a
    property of the job.
    """

    def __init__(self):
        import threading

        self.tick = os.sysconf("SC_CLK_TCK")
        self.seen = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _sample(self):
        for task in Path("/proc/self/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the thread ended
            self.seen[task.name] = (int(fields[11]) + int(fields[12])) / self.tick

    def _watch(self):
        while not self.done.wait(0.1):
            self._sample()

    def stop(self):
        self._sample()
        self.done.set()
        self.thread.join()
        own = str(self.thread.native_id)
        return max(v for k, v in self.seen.items() if k != own)


def memory(field):
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), in bytes.

    Not ``ru_maxrss``: that keeps the parent's high-water mark across fork and exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_child(page, ops_path, tree, profile):
    with tempfile.TemporaryDirectory(prefix="rodan-bench-pixel-") as out_dir:
        env = dict(os.environ, PYTHONPATH=str(tree), RODAN_MAX_IMAGE_PIXELS="200000000")
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(page), str(ops_path), out_dir]
        if profile:
            command.append("--profile")
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"the re-run failed:\n{done.stderr}")
        if profile:
            print(done.stderr)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="8000x12500", help="page width x height (default 8000x12500, 100 MP)")
    parser.add_argument("--layers", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="re-runs to time (each in a fresh child)")
    parser.add_argument("--tree", default=str(ROOT), help="the checkout whose job runs (default: this one)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions of one re-run")
    parser.add_argument("--child", nargs=3, metavar=("PAGE", "OPS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.profile)
        return
    width, height = (int(v) for v in args.size.lower().split("x"))
    page = Path(tempfile.gettempdir()) / f"rodan-bench-pixel-{width}x{height}.png"
    if not page.exists():
        print(f"generating the {width} x {height} page ({page}) ...", file=sys.stderr)
        make_page(page, width, height)
    ops = make_operations(width, height, args.layers)
    load = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as stream:
        json.dump(ops, stream)
    try:
        runs = [run_child(page, stream.name, Path(args.tree).resolve(), args.profile) for _ in range(args.repeat)]
    finally:
        os.unlink(stream.name)
    one, three = autosave_bodies(ops)
    rgba = width * height * 4
    seconds = [run["seconds"] for run in runs]
    cpu = [run["cpu"] for run in runs]
    busiest = [run["busiest"] for run in runs]
    peak = max(run["rss_peak"] for run in runs)
    above = max(run["rss_peak"] - run["rss_before"] for run in runs)
    sizes = runs[0]["sizes"]
    command = " ".join(["python -m bench.pixel", *sys.argv[1:]])
    print(f"`{command}` on {os.cpu_count()} CPUs ({platform.machine()}), load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after; tree {args.tree}\n")
    print(f"Page {width} x {height} RGB ({page.stat().st_size / 1e6:.0f} MB PNG), {len(ops)} edits on "
          f"{args.layers} layers; one RGBA copy = {rgba / 2**20:.0f} MiB\n")
    print("| measure | figure | goal |")
    print("|---|---:|---|")
    print(f"| re-run (`run_my_task`), wall | {' / '.join(f'{s:.1f}' for s in seconds)} s | < {GOAL_SECONDS} s |")
    print(f"| the worker process's CPU time (user + system) | {' / '.join(f'{c:.1f}' for c in cpu)} s | |")
    print(f"| its busiest thread's CPU time (the wall time's floor with a free core per thread) | "
          f"{' / '.join(f'{b:.1f}' for b in busiest)} s | < {GOAL_SECONDS} s |")
    print(f"| peak resident memory of the worker process | {peak / 2**20:.0f} MiB = "
          f"{peak / rgba:.2f} × RGBA | < {GOAL_RGBA_COPIES} × |")
    print(f"| peak above the process before the re-run | {above / 2**20:.0f} MiB = {above / rgba:.2f} × RGBA | |")
    print(f"| outputs written (ZIP; largest PNG) | {sizes['ZIP'] / 1e6:.0f} MB; "
          f"{max(v for k, v in sizes.items() if k != 'ZIP') / 1e6:.0f} MB | |")
    print(f"| autosave body, one stroke: p50 / p95 / max | {statistics.median(one) / 1e3:.1f} / "
          f"{one[int(len(one) * 0.95) - 1] / 1e3:.1f} / {one[-1] / 1e3:.1f} KB | < {GOAL_BODY_BYTES / 1e3:.0f} KB |")
    print(f"| autosave body, three strokes: p50 / max | {statistics.median(three) / 1e3:.1f} / "
          f"{three[-1] / 1e3:.1f} KB | |")


if __name__ == "__main__":
    main()
