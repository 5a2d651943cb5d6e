"""Who may see and change a project and everything in it (rodan-compat.md §1, Permissions).

The one statement of project visibility and rights, used by the REST API,
the event stream and the interactive-job pages alike. Every object reachable
from a project is visible only to the project's creator, admins and workers,
and to superusers; the project itself may be changed by its creator and
admins, and deleted (or its admins changed) by its creator alone.
"""

from django.db.models import Q

from rodan.models import Project


def visible_projects(user):
    """Projects ``user`` created, administers or works on (all of them for a superuser)."""
    if not user or not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(Q(creator=user) | Q(admins=user) | Q(workers=user)).distinct()


def scope(queryset, project_path, user):
    """``queryset`` narrowed to objects whose project (reached by ``project_path``) ``user`` sees.

    ``project_path`` is the ORM path from the model to its Project, ``""``
    for projects themselves.
    """
    if user and user.is_authenticated and user.is_superuser:
        return queryset
    lookup = f"{project_path}__in" if project_path else "pk__in"
    return queryset.filter(**{lookup: visible_projects(user).values("pk")})


def can_view_project(user, project):
    """Whether ``user`` sees ``project`` and everything in it."""
    return visible_projects(user).filter(pk=project.pk).exists()


def is_project_owner(user, project):
    """The creator (or a superuser): may delete the project and choose its admins."""
    return bool(user and user.is_authenticated) and (user.is_superuser or project.creator_id == user.pk)


def is_project_admin(user, project):
    """The owner or an admin: may change the project and choose its workers."""
    if is_project_owner(user, project):
        return True
    return bool(user and user.is_authenticated) and project.admins.filter(pk=user.pk).exists()
