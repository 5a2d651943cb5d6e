"""Peak memory of the staff removers and finders as the page grows: ``python -m bench.staves.memory``.

One held-out A4 page at 300 dpi (``generate.render_page``, optionally with
Kanungo noise, as a scan has) is tiled to each size asked for, so a larger
page holds proportionally more staves, symbols and noise, as a large scan
does. Every (algorithm, size) runs in its own child process under an
address-space limit (``--limit``, GiB), so a runaway stops there instead of
taking the machine down; the child reports its peak resident set
(``ru_maxrss``, page and interpreter included, as a worker's memory limit
sees it), its resident set before the call and the call's CPU seconds.
Prints a Markdown table; asserts nothing.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

#: Page sizes measured by default, in megapixels (A4 at 300 dpi is 8.7).
SIZES = (8.7, 25.0, 50.0, 100.0)


def page_of(tile, megapixels):
    """``tile`` repeated to about ``megapixels`` at A4's aspect ratio (height = width × √2)."""
    width = int(round(np.sqrt(megapixels * 1e6 / np.sqrt(2))))
    height = int(round(width * np.sqrt(2)))
    reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]))
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def child(tile_path, algorithm, megapixels):
    """Run one algorithm on one page size in this process and print its figures as JSON."""
    import musicstaves

    ink = page_of(np.load(tile_path), megapixels)
    call = {**musicstaves.REMOVERS, **musicstaves.FINDERS}[algorithm]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    call(ink)
    seconds = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"pixels": ink.size, "before_mib": before / 1024, "peak_mib": peak / 1024, "seconds": seconds}))


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
    parser.add_argument("--noise", action="store_true", help="Kanungo noise on the tile (deform.kanungo), as on a scan")
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--tile", help="a one-bit page saved with numpy.save (True = black) to tile instead of a rendered one")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return
    import musicstaves

    from .generate import render_page

    names = list(musicstaves.REMOVERS) + list(musicstaves.FINDERS) if args.algorithms == "all" else args.algorithms.split(",")
    if args.tile:
        ink = np.load(args.tile).astype(bool)
    else:
        page = render_page(args.seed)
        if args.noise:
            from .deform import kanungo

            page = kanungo(page, np.random.default_rng(args.seed))
        ink = page.ink
    sizes = [float(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        tile_path = os.path.join(folder, "tile.npy")
        np.save(tile_path, ink)
        print(f"`python -m bench.staves.memory {' '.join(argv if argv is not None else sys.argv[1:])}`: seed {args.seed}" + (" with Kanungo noise" if args.noise else "") + f", limit {args.limit:g} GiB per child\n")
        print("| algorithm | " + " | ".join(f"{s:g} Mpx" for s in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for name in names:
            cells = []
            for size in sizes:
                r = measure(tile_path, name, size, args.limit)
                cells.append(r["error"] if "error" in r else f"{r['peak_mib']:,.0f} MiB, {r['seconds']:.1f} s")
                print(f"  {name} {size:g} Mpx: {cells[-1]}", file=sys.stderr, flush=True)
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
