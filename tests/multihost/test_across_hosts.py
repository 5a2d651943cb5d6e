"""Proof across hosts: workers on two other machines share a run, and one cut off mid-job loses and repeats nothing.

Three hosts are network namespaces on one bridge (``tests/support/netns.py``):
A runs PostgreSQL, RabbitMQ (private servers listening on A's address only),
the web app and the scheduler; B and C each run ``rodan worker`` (2 processes)
and reach A only over their veth link, with their own host names, which the
engine records as ``worker_host`` on each claim. Storage is the shared folder:
the hosts share this machine's file system, and so the resources folder, as
workers on separate machines share a network volume (NFS, EFS, a
read-write-many Kubernetes volume).

1. A 100-page binarization run (small real PNGs, "To one-bit PNG") is spread
   over B and C.
2. Four slow text steps start, two on B; B's link is cut while they run
   (``ip link set <veth> down``, the bridge end: B's packets vanish, as when a
   cable is pulled). B's RunJobs fall silent, the scheduler on A dispatches
   them again after the heartbeat timeout, and they finish on C. When B's link
   comes back, B's late results are discarded, nothing of the run starts
   again (the test job writes a ledger line at each start, with its process
   id), and B takes its share of the next run: nothing hangs.

Needs root and iproute2 (namespaces, veths, a bridge): skipped without them,
except under ``RODAN_REQUIRE_SERVICES=1`` (CI), where that is a failure.
Figures (the spread, C's take-over time) are printed, never asserted;
``bench/multihost.py`` compares one worker host with two.
"""

import os
import sys
import time

import netns
import pytest
from builders import chain_document, make_project, output_texts, run_over, step_settings, upload, valid_workflow
from builders import wait_for, wait_run
from django.utils import timezone
from fault_checks import ledger_counts

from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.services

PAGES = 100
SLOW_PAGES = 4
#: Long enough for B's two jobs to be caught running when its link is cut.
SLOW_SECONDS = 8


@pytest.fixture
def cluster(tmp_path):
    problem = netns.problem()
    if problem:
        if os.environ.get("RODAN_REQUIRE_SERVICES") == "1":
            pytest.fail(f"RODAN_REQUIRE_SERVICES=1 but the multi-host test cannot build its hosts: {problem}")
        pytest.skip(f"the multi-host test cannot build its hosts: {problem}")
    with netns.Cluster(tmp_path) as cluster:
        yield cluster


def hosts_of(run):
    """{worker host: RunJobs whose last claim was made there}."""
    counts = {}
    for host in RunJob.objects.filter(workflow_run=run).values_list("worker_host", flat=True):
        counts[host] = counts.get(host, 0) + 1
    return counts


def slow_run(project, ledger, tag, pages, seconds):
    workflow = valid_workflow(project, chain_document([step_settings(tag, Ledger=str(ledger), Sleep=seconds)]))
    return run_over(workflow, [upload(project, f"{tag}{i}", name=f"{tag}{i}") for i in range(pages)])


def running_on(run, host):
    return list(
        RunJob.objects.filter(workflow_run=run, status=RunJobStatus.PROCESSING, worker_host=host).exclude(claimed_by="")
    )


def ledger_starts(ledger, tag, name):
    """Process ids of each start of the RunJob of ``tag`` over input ``name``, in order."""
    lines = [line.rsplit(" ", 1) for line in ledger.read_text().splitlines()]
    return [int(pid) for started, pid in lines if started == f"{tag} {name}"]


def told_taken_over(log_path, run_job):
    """Whether a worker's log says it stopped ``run_job``, or dropped its results, because another took it over."""
    lines = log_path.read_text(errors="replace").splitlines()
    return any(f"RunJob {run_job.pk} " in line and "taken over" in line for line in lines)


def test_a_run_spreads_over_two_worker_hosts_and_a_cut_off_host_runs_nothing_twice(cluster, tmp_path):
    started = time.monotonic()
    assert cluster.web_health_from(None) == 200
    for name in ("hostb", "hostc"):
        cluster.start_worker(name)
        assert cluster.web_health_from(name) == 200  # the web app on A answers over the host's link
    project = make_project()
    ready = time.monotonic() - started
    print(f"\nmulti-host: both worker hosts ready {ready:.1f} s after the deployment", file=sys.__stderr__)

    # 1. A 100-page run spreads over B and C.
    run = run_over(valid_workflow(project, netns.BINARIZE), netns.binarization_pages(project, tmp_path, PAGES))
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=300)
    assert run.status == RunStatus.FINISHED
    spread = hosts_of(run)
    assert set(spread) == {"hostb", "hostc"}, spread
    assert all(rj.attempts == 1 for rj in RunJob.objects.filter(workflow_run=run))
    finishes = sorted(RunJob.objects.filter(workflow_run=run).values_list("finished_at", flat=True))
    print(f"multi-host: {PAGES} pages in {(finishes[-1] - run.created).total_seconds():.1f} s, by host {spread}",
          file=sys.__stderr__)

    # 2. B's link is cut while B runs two slow jobs; C takes them over.
    ledger = tmp_path / "ledger"
    run = slow_run(project, ledger, "slow", SLOW_PAGES, SLOW_SECONDS)
    held = wait_for(lambda: len(running_on(run, "hostb")) == 2 and running_on(run, "hostb"), 60, "B to run two jobs")
    cluster.network.cut(cluster.hosts["hostb"])
    cut_at = timezone.now()
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=180)
    assert run.status == RunStatus.FINISHED
    taken_over = RunJob.objects.filter(pk__in=[rj.pk for rj in held])
    assert {(rj.worker_host, rj.attempts, rj.status) for rj in taken_over} == {("hostc", 2, RunJobStatus.FINISHED)}
    claimed_again = max(rj.started_at for rj in taken_over) - cut_at
    done_again = max(rj.finished_at for rj in taken_over) - cut_at
    print(f"multi-host: B cut off holding 2 RunJobs; C claimed them {claimed_again.total_seconds():.1f} s and finished "
          f"them {done_again.total_seconds():.1f} s after the cut (heartbeat timeout "
          f"{netns.HEARTBEAT_TIMEOUT} s)", file=sys.__stderr__)

    # B comes back: its late results are discarded and it runs nothing of that run again.
    cluster.network.restore(cluster.hosts["hostb"])
    restored = time.monotonic()
    b_log = cluster.workers["hostb"].log_path
    wait_for(lambda: all(told_taken_over(b_log, rj) for rj in held), 180, "B to learn its RunJobs were taken over")
    print(f"multi-host: B dropped its late results {time.monotonic() - restored:.1f} s after its link came back",
          file=sys.__stderr__)
    b_pids, c_pids = set(cluster.hosts["hostb"].pids()), set(cluster.hosts["hostc"].pids())
    for rj in taken_over:
        name = rj.inputs.get().resource.name
        first, second = ledger_starts(ledger, "slow", name)  # started twice: on B, then on C, and no more
        assert first in b_pids and second in c_pids, (name, first, second)
    assert sum(ledger_counts(ledger).values()) == SLOW_PAGES + 2
    assert sorted(output_texts(run).values()) == sorted(f"slow{i}+slow" for i in range(SLOW_PAGES))

    # Nothing hangs: B, back, takes its share of the next run.
    after = slow_run(project, ledger, "after", 6, 2)
    wait_run(after, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=120)
    assert after.status == RunStatus.FINISHED
    assert set(hosts_of(after)) == {"hostb", "hostc"}, hosts_of(after)
    assert sum(ledger_counts(ledger).values()) == SLOW_PAGES + 2 + 6  # no start of the cut run's jobs since
    print(f"multi-host: whole test {time.monotonic() - started:.1f} s after the hosts were built", file=sys.__stderr__)
