"""Redo: which RunJobs it reaches, and that their old outputs stop counting as ready.

The state changes themselves are lifecycle transitions (cancel, retry and
interactive submissions are nothing else, and live there). A job running
elsewhere notices through its heartbeat that its row is no longer its own and
stops (rodan-compat.md §3).
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rodan.engine import lifecycle
from rodan.models import Input, Output, Resource

def downstream_run_jobs(run_job):
    """``run_job`` and every RunJob that consumes, directly or not, what it produces."""
    found, frontier = {run_job.pk}, [run_job.pk]
    while frontier:
        produced = Output.objects.filter(run_job_id__in=frontier)
        consumers = set(
            Input.objects.filter(
                Q(resource__in=produced.values("resource_id")) | Q(resource_list__in=produced.values("resource_list_id"))
            ).values_list("run_job_id", flat=True)
        )
        frontier = list(consumers - found)
        found.update(frontier)
    return found


@transaction.atomic
def redo_from(run_job):
    """Re-run ``run_job`` and everything downstream; their old outputs stop counting as ready."""
    affected = downstream_run_jobs(run_job)
    run = lifecycle.redo(run_job, affected)
    outputs = Output.objects.filter(run_job__in=affected)
    Resource.objects.filter(pk__in=outputs.values("resource_id")).update(resource_file="", updated=timezone.now())
    for output in outputs.filter(resource_list__isnull=False).select_related("resource_list"):
        output.resource_list.memberships.all().delete()
    return run
