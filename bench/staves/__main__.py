"""Staff-removal benchmark: ``python -m bench.staves [--pages N] [--size HxW] [--notation KIND] [--jobs N]``.

Renders ``--pages`` pages per notation (common Western, mensural, square;
all three unless ``--notation`` names one) from the held-out split (seeds
from 10 000; the tests use seeds below 10 000), applies every deformation
of ``deform.py`` to each (seeded by page and deformation), and prints
Markdown tables: per deformation and remover the F-measure, Dalitz's pixel
error rate and the time per page, over all pages and then summed up per
notation; the segmentation-region and staff-line interruption errors (along
the true line skeletons the generator exports); and
the finders' staves and lines found (lines matching no drawn line counted
as false) and line-position error over the matched lines. It asserts
nothing.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import musicstaves
from musicstaves.evaluation import finder_scores, removal_scores

from .deform import DEFORMATIONS
from .generate import A4_300DPI, NOTATIONS, render_page

#: First seed of the held-out split; the tests use seeds below it.
HELD_OUT = 10_000


def held_out_seeds(pages):
    """Seeds of the benchmark's pages: ``pages`` per notation, all in the held-out split."""
    return [HELD_OUT + k for k in range(pages)]


def measure_page(task):
    """Every remover and finder on every deformation of one held-out page, as rows of scores.

    Runs in a worker process with ``--jobs``: times are CPU seconds of that process.
    """
    seed, size, notation = task
    clean = render_page(seed, size, notation)
    rows = []
    for d_index, (deformation, apply) in enumerate(DEFORMATIONS.items()):
        page = apply(clean, np.random.default_rng([seed, d_index]))
        lh = musicstaves.staffline_height(page.ink)
        for name, remover in musicstaves.REMOVERS.items():
            started = time.process_time()
            result = remover(page.ink)
            seconds = time.process_time() - started
            scores = removal_scores(page.ink, page.staff_only, result.image, page.lines)
            rows.append({"task": "removal", "algorithm": name, "deformation": deformation, "notation": notation, **scores, "seconds": seconds})
        for name, finder in musicstaves.FINDERS.items():
            started = time.process_time()
            staves = finder(page.ink)
            seconds = time.process_time() - started
            scores = finder_scores(staves, page.staff_only, lh, clean.staves, clean.lines_per_staff)
            rows.append({"task": "finding", "algorithm": name, "deformation": deformation, "notation": notation, **scores, "seconds": seconds})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.staves", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="pages per notation and deformation (default 2)")
    parser.add_argument("--size", default="x".join(map(str, A4_300DPI)), help="page size HxW in pixels (default A4 at 300 dpi)")
    parser.add_argument("--notation", choices=[*NOTATIONS, "all"], default="all", help="notation of the pages (default all)")
    parser.add_argument("--jobs", type=int, default=1, help="pages measured in parallel processes (default 1)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    notations = NOTATIONS if args.notation == "all" else (args.notation,)
    tasks = [(seed, size, notation) for notation in notations for seed in held_out_seeds(args.pages)]
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for (seed, _, notation), page_rows in zip(tasks, pool.map(measure_page, tasks)):
            rows.extend(page_rows)
            print(f"  {notation} page {seed} done", file=sys.stderr)
    report(args, size, notations, rows)


def _select(rows, **match):
    return [row for row in rows if all(row[key] == value for key, value in match.items())]


def _mean(rows, key):
    return float(np.mean([row[key] for row in rows]))


def _removal_cell(rows):
    return f"{_mean(rows, 'f_measure'):.4f} / {_mean(rows, 'pixel_error'):.4f} / {_mean(rows, 'seconds'):.2f}"


def _removal_summary(rows):
    """A removal cell with its F-measure in bold, for the summary rows."""
    return f"**{_mean(rows, 'f_measure'):.4f}** / {_mean(rows, 'pixel_error'):.4f} / {_mean(rows, 'seconds'):.2f}"


def _finder_cell(rows):
    found, drawn = sum(r["staves_found"] for r in rows), sum(r["staves_drawn"] for r in rows)
    lines, lines_drawn = sum(r["lines_found"] for r in rows), sum(r["lines_drawn"] for r in rows)
    false = sum(r["false_lines"] for r in rows)
    errors = [r for r in rows if r["lines_found"]]  # pages where some line matched: the errors are over matched lines
    mean = np.sum([r["mean_position_error"] * r["lines_found"] for r in errors]) / max(1, lines)
    worst = max((r["max_position_error"] for r in errors), default=float("nan"))
    return (f"{found}/{drawn}, {lines}/{lines_drawn}{f' (+{false} false)' if false else ''}, {mean:.2f} / "
            f"{worst:.2f}, {_mean(rows, 'seconds'):.2f}")


def _table(rows, algorithms, cell, summary, notations):
    """Rows per deformation over all pages, the mean over deformations, then per notation: undeformed and mean."""
    deformed = [d for d in DEFORMATIONS if d != "none"]

    def over_deformations(algorithm, **match):
        return [r for d in deformed for r in _select(rows, algorithm=algorithm, deformation=d, **match)]

    print("| deformation | " + " | ".join(algorithms) + " |")
    print("|---|" + "---|" * len(algorithms))
    for deformation in DEFORMATIONS:
        print(f"| {deformation} | " + " | ".join(cell(_select(rows, algorithm=a, deformation=deformation)) for a in algorithms) + " |")
    print("| **mean over deformations** | " + " | ".join(summary(over_deformations(a)) for a in algorithms) + " |")
    if len(notations) > 1:
        for notation in notations:
            print(f"| *{notation}*: none | " + " | ".join(cell(_select(rows, algorithm=a, deformation="none", notation=notation)) for a in algorithms) + " |")
            print(f"| *{notation}*: **mean over deformations** | " + " | ".join(summary(over_deformations(a, notation=notation)) for a in algorithms) + " |")


def report(args, size, notations, rows):
    removers, finders = list(musicstaves.REMOVERS), list(musicstaves.FINDERS)
    pages = args.pages * len(notations)
    print(f"`python -m bench.staves --pages {args.pages} --size {size[0]}x{size[1]} --notation {args.notation}` on "
          f"{os.cpu_count()} CPUs; {pages} held-out page(s) per deformation ({args.pages} per notation: "
          f"{', '.join(notations)}); cell: F-measure / pixel error / CPU seconds per page\n")
    _table(_select(rows, task="removal"), removers, _removal_cell, _removal_summary, notations)
    print("\nSegmentation-region error / staff-line interruption error, mean over all pages and deformations:\n")
    print("| notation | " + " | ".join(removers) + " |")
    print("|---|" + "---|" * len(removers))
    for label, match in [("all", {})] + [(n, {"notation": n}) for n in notations if len(notations) > 1]:
        cells = [_select(rows, task="removal", algorithm=r, **match) for r in removers]
        print(f"| {label} | " + " | ".join(f"{_mean(c, 'segmentation_error'):.3f} / {_mean(c, 'interruption_error'):.3f}" for c in cells) + " |")
    print("\nFinders: staves found / drawn, lines found / drawn (+ found lines matching none), mean / max line-position "
          "error of the matched lines (staff-line heights), "
          "CPU seconds per page:\n")
    _table(_select(rows, task="finding"), finders, _finder_cell, _finder_cell, notations)


if __name__ == "__main__":
    main()
