"""A run's results: its end-point outputs, the files a person takes away.

An output is an end point when no RunJob of its run consumes its resource or
resource list; a Labeler does not count as a consumer, since it only labels
what it is given (rodan-compat.md §2.5 ``result_of_workflow_run``, §2.10
packaging mode 0). The resources filter, results packages and ``rodan run``
all ask this module, so they agree on what a run produced.
"""

from rodan.models import Input, Output

#: Jobs whose consumption of an output does not make it intermediate.
NON_CONSUMING_JOBS = ("Labeler",)


def end_point_outputs(run):
    """The run's Outputs that no other RunJob of the run (other than a Labeler) consumes."""
    consumed = Input.objects.filter(run_job__workflow_run=run).exclude(run_job__job_name__in=NON_CONSUMING_JOBS)
    return (
        Output.objects.filter(run_job__workflow_run=run)
        .exclude(resource__in=consumed.filter(resource__isnull=False).values("resource"))
        .exclude(resource_list__in=consumed.filter(resource_list__isnull=False).values("resource_list"))
    )


def ready_files(outputs):
    """``(output, resource)`` for every file ``outputs`` hold that is ready, list members in list order."""
    files = []
    for output in outputs:
        members = [output.resource] if output.resource_id else output.resource_list.ordered_resources()
        files += [(output, resource) for resource in members if resource is not None and resource.is_ready]
    return files
