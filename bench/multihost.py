"""Throughput of one worker host against two, across network namespaces (as ``tests/multihost``).

    sudo .venv/bin/python -m bench.multihost              # 100 pages, one round
    sudo .venv/bin/python -m bench.multihost --pages 50 --rounds 3

Builds the test's hosts (``tests/support/netns.py``: A serves PostgreSQL,
RabbitMQ, the web app and the scheduler; B and C run ``rodan worker`` with
``--concurrency`` processes each), then runs a one-job binarization ("To
one-bit PNG") over ``--pages`` small real PNGs with B alone, then with B and
C; each round starts C and stops it again. Prints a Markdown table: seconds
from ``create_run`` to the last RunJob finished, pages per second, and the
ratio of two hosts to one. Needs root (namespaces). On one machine the hosts
share its CPUs: the ratio says what the engine spreads, not what separate
machines would add.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def configure(data_dir):
    """Django on a PostgreSQL database and RabbitMQ broker; the cluster supplies their addresses."""
    sys.path[:0] = [str(ROOT / "tests" / "support"), str(ROOT)]
    # Settings pick the engine's kind (PostgreSQL, AMQP) once, at set-up; the cluster re-points both at host A.
    os.environ.update(
        RODAN_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="rodan.settings",
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/rodan",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//",
        RODAN_EAGER_TILES="0",
    )
    import django

    from rodan.stack import prepare_data_dir

    prepare_data_dir(data_dir)
    django.setup()


def timed_run(project, pages):
    import netns
    from builders import run_over, valid_workflow, wait_run

    from rodan.models import RunJob
    from rodan.models.status import RunStatus

    run = run_over(valid_workflow(project, netns.BINARIZE), pages)
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=900)
    if run.status != RunStatus.FINISHED:
        raise SystemExit(f"the run did not finish (status {run.status})")
    last = max(RunJob.objects.filter(workflow_run=run).values_list("finished_at", flat=True))
    hosts = sorted(set(RunJob.objects.filter(workflow_run=run).values_list("worker_host", flat=True)))
    return (last - run.created).total_seconds(), hosts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes per host")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench.multihost needs root: it builds network namespaces")
    with tempfile.TemporaryDirectory(prefix="rodan-bench-multihost-") as scratch:
        scratch = Path(scratch)
        configure(scratch / "data")
        import netns
        from builders import make_project

        seconds = {1: [], 2: []}
        with netns.Cluster(scratch) as cluster:
            project = make_project("bench multihost")
            cluster.start_worker("hostb", args.concurrency)
            for _ in range(args.rounds):
                for hosts in (1, 2):
                    if hosts == 2:
                        cluster.start_worker("hostc", args.concurrency)
                    pages = netns.binarization_pages(project, scratch, args.pages)
                    took, ran_on = timed_run(project, pages)
                    if len(ran_on) != hosts:
                        raise SystemExit(f"a {hosts}-host run ran on {ran_on}")
                    seconds[hosts].append(took)
                    if hosts == 2:
                        cluster.stop_worker("hostc")
    print(f"`python -m bench.multihost --pages {args.pages} --rounds {args.rounds} --concurrency {args.concurrency}`, "
          f"{os.cpu_count()} CPUs shared by the three hosts\n")
    print("| worker hosts | processes | run of %d pages, s (median) | pages/s | vs one host |" % args.pages)
    print("|---|---|---|---|---|")
    one = statistics.median(seconds[1])
    for hosts in (1, 2):
        took = statistics.median(seconds[hosts])
        print(f"| {hosts} | {hosts * args.concurrency} | {took:.1f} | {args.pages / took:.1f} | {one / took:.2f}x |")


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"\n(bench took {time.monotonic() - start:.0f} s)")
