"""Per-project access (rodan-compat.md §1, Permissions), without Rodan's gaps.

Every object reachable from a project is visible only to the project's
creator, admins and workers (and superusers). Querysets are narrowed to those
objects, so an outsider gets 404 and cannot learn that an object exists.
Inside a project, members have full rights on child objects; the project
itself may be changed by its creator and admins and deleted by its creator.
"""

from django.db.models import Q
from rest_framework import permissions

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


def is_project_admin(user, project):
    if user.is_superuser or project.creator_id == user.pk:
        return True
    return project.admins.filter(pk=user.pk).exists()


class ProjectAccess(permissions.BasePermission):
    """Members view a project; its creator and admins change it; only its creator deletes it."""

    def has_object_permission(self, request, view, project):
        if request.method in permissions.SAFE_METHODS:
            return True  # the queryset already holds only the user's projects
        if request.method == "DELETE":
            return request.user.is_superuser or project.creator_id == request.user.pk
        return is_project_admin(request.user, project)


class IsSelfOrSuperuser(permissions.BasePermission):
    """A user's own record; superusers may see and change anyone's."""

    def has_object_permission(self, request, view, obj):
        owner = getattr(obj, "user_id", getattr(obj, "pk", None))
        return request.user.is_superuser or owner == request.user.pk


class IsStaff(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff)
