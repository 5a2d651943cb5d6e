"""What the faults tests share: the processes of a supervised worker, and the exactly-once ledger check."""

import os
import sys
from collections import Counter
from pathlib import Path

from builders import output_texts

from rodan.models import RunJob
from rodan.models.status import RunJobStatus


def children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def pool_processes(supervisor):
    """The Celery pool processes of a ``rodan worker``: its Celery child's children."""
    return [pool for celery in children(supervisor.pid) for pool in children(celery)]


def start_supervised_worker(processes, label, concurrency=2):
    command = [sys.executable, "-m", "rodan.cli", "worker", "--concurrency", str(concurrency), "--name", f"{label}-{os.getpid()}@%h"]
    return processes.start(label, command, ready_text=" ready.")


def ledger_counts(ledger):
    """{"<tag> <input name>": lines} (each line ends with the process id)."""
    return Counter(line.rsplit(" ", 1)[0] for line in ledger.read_text().splitlines()) if ledger.exists() else Counter()


def ran_once(run, ledger, tags, kills):
    """Every RunJob finished with the right output, and started once more at most for each kill of its process.

    The test job writes a ledger line when it starts, and a start needs a
    claim: a RunJob has one line per start, at most one per attempt. Returns
    (RunJobs, extra starts).
    """
    run_jobs = list(RunJob.objects.filter(workflow_run=run).prefetch_related("inputs__resource"))
    assert {rj.status for rj in run_jobs} == {RunJobStatus.FINISHED}
    pages = [rj.inputs.get().resource.name for rj in run_jobs if rj.job_settings["Tag"] == tags[0]]
    assert sorted(output_texts(run).values()) == sorted(page + "".join(f"+{t}" for t in tags) for page in pages)
    counts = ledger_counts(ledger)
    starts = [(counts[f"{rj.job_settings['Tag']} {rj.inputs.get().resource.name}"], rj.attempts) for rj in run_jobs]
    assert all(1 <= started <= attempts for started, attempts in starts)
    extra = sum(started for started, _ in starts) - len(run_jobs)
    assert extra <= kills
    return len(run_jobs), extra
