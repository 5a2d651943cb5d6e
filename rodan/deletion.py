"""Deleting projects and users: what goes with them, and what must not go by accident.

A project goes whole: runs (their RunJobs, inputs, outputs, results
packages), resources, resource lists, workflows, and its files on disk. Its
running jobs are stopped first, as for a deleted run: a worker installs
results only while its RunJob is still its own (``engine.execution``), so it
discards them. A user goes only if some other superuser stays, and only once
the projects they created are gone, so no project is left without an owner.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from rodan import storage
from rodan.engine import lifecycle
from rodan.models import ResultsPackage
from rodan.packages import package_path


class Refused(Exception):
    """The deletion would break a rule; the message says which, in a sentence."""


def delete_project(project):
    """Delete the project with everything in it; its files go once the deletion has committed.

    The project's row is locked first: a request adding a run, resource or
    workflow to it meanwhile waits (its foreign key needs the row), then
    finds the project gone, so no row slips in between the listing and the
    deletion. The runs go first: their Input rows protect the resources they read.
    """
    folder = storage.project_folder(project.pk)
    with transaction.atomic():
        project = type(project).objects.select_for_update().get(pk=project.pk)
        packages = [package_path(p) for p in ResultsPackage.objects.filter(workflow_run__project=project)]
        for run in project.workflow_runs.all():
            lifecycle.stop_for_deletion(run)
            run.delete()
        project.delete()
        transaction.on_commit(lambda: _remove_files(folder, packages))


def _remove_files(folder, packages):
    storage.remove_folder(folder)
    for path in packages:
        path.unlink(missing_ok=True)


def delete_user(user):
    """Delete ``user``, or raise Refused if that leaves no superuser or projects without a creator."""
    users = get_user_model().objects
    with transaction.atomic():
        # Locking every superuser makes two of them deleting each other wait for one another.
        superusers = users.select_for_update().filter(is_superuser=True, is_active=True)
        if list(superusers.values_list("pk", flat=True)) == [user.pk]:
            raise Refused(
                f"{user.username} is the last superuser; make another user a superuser before deleting this one."
            )
        created = list(user.created_projects.order_by("name").values_list("name", flat=True))
        if created:
            listed = ", ".join(f'"{name}"' for name in created[:5]) + (", ..." if len(created) > 5 else "")
            raise Refused(
                f"{user.username} created {len(created)} project(s) ({listed}), which would be left without "
                "an owner; delete those projects first."
            )
        user.delete()
