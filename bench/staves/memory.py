"""Peak memory of the staff removers and finders as the page grows: ``python -m bench.staves.memory``.

An A4 page at 300 dpi is tiled to each size asked for, so a larger page
holds proportionally more staves, symbols and noise, as a large scan does.
The page (``--page``) is a held-out engraved page (``generate.render_page``),
the same with Kanungo noise (``deform.kanungo``), or the scanned-page
imitation of the Gamera benchmark (``tests/support/gamera_pages.py``: uneven
paper, noise, random strokes, bleed-through; Otsu-binarised), whose noise
makes thousands of short line fragments. Every (algorithm, size) runs in its
own child process under an address-space limit (``--limit``, GiB), so a
runaway stops there instead of taking the machine down; the child reports
its peak resident set (``ru_maxrss``, page and interpreter included, as a
worker's memory limit sees it) and the call's CPU seconds; with ``--job`` the
call is the remover's Rodan job on the page saved as a one-bit PNG. Prints a
Markdown table; asserts nothing.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: Page sizes measured by default, in megapixels (A4 at 300 dpi is 8.7).
SIZES = (8.7, 25.0, 50.0, 100.0)


#: The A4 pages ``--page`` offers.
PAGES = ("engraved", "kanungo", "scan")


def a4_page(kind, seed):
    """The A4 page at 300 dpi to tile, as ink (True = black).

    The generators are imported here, not at the top: the children, which
    only load the tile, would otherwise count verovio and resvg in their peak.
    """
    from .deform import kanungo
    from .generate import A4_300DPI, render_page

    if kind == "scan":
        import cv2

        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
        from gamera_pages import _page

        grey = _page(np.random.default_rng(seed), *A4_300DPI)
        return grey <= cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
    page = render_page(seed)
    return kanungo(page, np.random.default_rng(seed)).ink if kind == "kanungo" else page.ink


def page_of(tile, megapixels):
    """``tile`` repeated to about ``megapixels`` at A4's aspect ratio (height = width × √2)."""
    width = int(round(np.sqrt(megapixels * 1e6 / np.sqrt(2))))
    height = int(round(width * np.sqrt(2)))
    reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]))
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def child(tile_path, algorithm, megapixels):
    """Run one algorithm on one page size in this process and print its figures as JSON.

    With a PNG instead of a tile, run Rodan's job of that remover on it as a
    worker does (PNG decode and encode included).
    """
    if tile_path.endswith(".png"):
        import musicstaves
        from rodan.jobs.musicstaves import staves as jobs

        remover = musicstaves.REMOVERS[algorithm]
        job = next(j for j in vars(jobs).values() if isinstance(j, type) and getattr(j, "remover", None) is remover)
        inputs = {jobs.ORIGINAL: [{"resource_path": tile_path, "resource_type": jobs.ONEBIT, "resource_name": "page"}]}
        outputs = {jobs.REMOVED: [{"resource_path": tile_path + ".out", "resource_type": jobs.ONEBIT}]}
        call, pixels = (lambda: job().run_my_task(inputs, {}, outputs)), None
    else:
        import musicstaves

        ink = page_of(np.load(tile_path), megapixels)
        function, pixels = {**musicstaves.REMOVERS, **musicstaves.FINDERS}[algorithm], ink.size
        call = lambda: function(ink)  # noqa: E731
    started = time.process_time()
    call()
    seconds = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"pixels": pixels, "peak_mib": peak / 1024, "seconds": seconds}))


def measure(tile_path, algorithm, megapixels, limit_gib):
    """Figures of one child run, or the reason it stopped."""
    limit = int(limit_gib * 2**30)

    def bounded():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [sys.executable, "-m", "bench.staves.memory", "--child", tile_path, algorithm, str(megapixels)]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=bounded, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["killed"])[-1]
        return {"error": f"stopped at the {limit_gib:g} GiB limit" if "MemoryError" in done.stderr or done.returncode < 0 else last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", default="Roach-Tatem", help="comma-separated remover/finder names (musicstaves.REMOVERS, FINDERS), or 'all'")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="comma-separated page sizes in megapixels")
    parser.add_argument("--limit", type=float, default=6.0, help="address-space limit per child, GiB")
    parser.add_argument("--page", choices=PAGES, default="kanungo", help="the A4 page tiled (see the module's docstring)")
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--job", action="store_true", help="run each remover's Rodan job on the page as a PNG, as a worker does")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return
    import musicstaves

    names = list(musicstaves.REMOVERS) + list(musicstaves.FINDERS) if args.algorithms == "all" else args.algorithms.split(",")
    if args.job:  # finders have no job of their own
        names = [name for name in names if name in musicstaves.REMOVERS]
    ink = a4_page(args.page, args.seed)
    sizes = [float(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        tile_path = os.path.join(folder, "tile.npy")
        np.save(tile_path, ink)
        command = " ".join(argv if argv is not None else sys.argv[1:])
        called = "Rodan's job on a one-bit PNG" if args.job else "the toolkit's call on an array"
        print(f"`python -m bench.staves.memory {command}`: {args.page} page (seed {args.seed}) tiled, {called}, limit {args.limit:g} GiB per child\n")
        print("| algorithm | " + " | ".join(f"{s:g} Mpx" for s in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for name in names:
            cells = []
            for size in sizes:
                page_path = tile_path
                if args.job:
                    from rodan.imaging import save_png

                    page_path = os.path.join(folder, f"page-{size:g}.png")
                    if not os.path.exists(page_path):
                        save_png(~page_of(ink, size), page_path, "image/onebit+png")
                r = measure(page_path, name, size, args.limit)
                cells.append(r["error"] if "error" in r else f"{r['peak_mib']:,.0f} MiB, {r['seconds']:.1f} s")
                print(f"  {name} {size:g} Mpx: {cells[-1]}", file=sys.stderr, flush=True)
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
