"""Staff-removal benchmark: ``python -m bench.staves [--pages N] [--size HxW]``.

Renders ``--pages`` pages of the held-out split (seeds from 10 000; the tests
use seeds below 10 000), applies every deformation of ``deform.py`` to each
(seeded by page and deformation), and prints Markdown tables: per
deformation and remover the F-measure, Dalitz's pixel error rate and the
time per page; the segmentation-region and staff-line interruption errors
averaged over the deformations; and the finders' staves found and
line-position error. It asserts nothing.
"""

import argparse
import os
import sys
import time

import numpy as np

import musicstaves
from musicstaves.evaluation import finder_scores, removal_scores

from .deform import DEFORMATIONS
from .generate import A4_300DPI, render_page

HELD_OUT = 10_000


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.staves", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="pages per deformation (default 2)")
    parser.add_argument("--size", default="x".join(map(str, A4_300DPI)), help="page size HxW in pixels (default A4 at 300 dpi)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    removal = {}  # (deformation, remover) -> list of score dicts with "seconds"
    finding = {}  # (deformation, finder) -> list of score dicts
    base = [render_page(HELD_OUT + k, size) for k in range(args.pages)]
    for d_index, (deformation, apply) in enumerate(DEFORMATIONS.items()):
        for k, clean in enumerate(base):
            page = apply(clean, np.random.default_rng([HELD_OUT + k, d_index]))
            lh = musicstaves.staffline_height(page.ink)
            for name, remover in musicstaves.REMOVERS.items():
                started = time.process_time()
                result = remover(page.ink)
                seconds = time.process_time() - started
                scores = removal_scores(page.ink, page.staff_only, result.image)
                removal.setdefault((deformation, name), []).append({**scores, "seconds": seconds})
            for name, finder in musicstaves.FINDERS.items():
                started = time.process_time()
                staves = finder(page.ink)
                seconds = time.process_time() - started
                scores = finder_scores(staves, page.staff_only, lh, page.staves, page.lines_per_staff)
                finding.setdefault((deformation, name), []).append({**scores, "seconds": seconds})
        print(f"  {deformation} done", file=sys.stderr)
    report(args, size, removal, finding)


def _mean(rows, key):
    return float(np.mean([row[key] for row in rows]))


def report(args, size, removal, finding):
    removers, finders = list(musicstaves.REMOVERS), list(musicstaves.FINDERS)
    print(f"`python -m bench.staves --pages {args.pages} --size {size[0]}x{size[1]}` on {os.cpu_count()} CPUs; "
          f"{args.pages} held-out page(s) per deformation; cell: F-measure / pixel error / CPU seconds per page\n")
    print("| deformation | " + " | ".join(removers) + " |")
    print("|---|" + "---|" * len(removers))
    for deformation in DEFORMATIONS:
        cells = [removal[(deformation, r)] for r in removers]
        print(f"| {deformation} | " + " | ".join(f"{_mean(c, 'f_measure'):.4f} / {_mean(c, 'pixel_error'):.4f} / {_mean(c, 'seconds'):.2f}" for c in cells) + " |")
    deformed = [d for d in DEFORMATIONS if d != "none"]
    averages = {r: [row for d in deformed for row in removal[(d, r)]] for r in removers}
    print("| **mean over deformations** | " + " | ".join(f"**{_mean(a, 'f_measure'):.4f}** / {_mean(a, 'pixel_error'):.4f} / {_mean(a, 'seconds'):.2f}" for a in averages.values()) + " |")
    print("\nSegmentation-region error / staff-line interruption error, mean over all pages and deformations:\n")
    print("| " + " | ".join(removers) + " |")
    print("|" + "---|" * len(removers))
    every = {r: [row for d in DEFORMATIONS for row in removal[(d, r)]] for r in removers}
    print("| " + " | ".join(f"{_mean(a, 'segmentation_error'):.3f} / {_mean(a, 'interruption_error'):.3f}" for a in every.values()) + " |")
    print("\nFinders: staves found / drawn, mean / max line-position error (staff-line heights), CPU seconds per page:\n")
    print("| deformation | " + " | ".join(finders) + " |")
    print("|---|" + "---|" * len(finders))
    for deformation in DEFORMATIONS:
        cells = []
        for f in finders:
            rows = finding[(deformation, f)]
            found, drawn = sum(r["staves_found"] for r in rows), sum(r["staves_drawn"] for r in rows)
            cells.append(f"{found}/{drawn}, {_mean(rows, 'mean_position_error'):.2f} / {max(r['max_position_error'] for r in rows):.2f}, {_mean(rows, 'seconds'):.2f}")
        print(f"| {deformation} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
