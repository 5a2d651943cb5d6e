"""DRF permission classes over the project rules of ``rodan.permissions``.

Querysets are narrowed to the user's projects (``rodan.permissions.scope``),
so an outsider gets 404 and cannot learn that an object exists; these
classes add what a member may do to an object once it is found.
"""

from rest_framework import permissions

from rodan.permissions import is_project_admin, is_project_owner
from rodan.permissions import visible_projects  # noqa: F401  (imported from here by the event stream)


class ProjectAccess(permissions.BasePermission):
    """Members view a project; its creator and admins change it; only its creator deletes it."""

    def has_object_permission(self, request, view, project):
        if request.method in permissions.SAFE_METHODS:
            return True  # the queryset already holds only the user's projects
        if request.method == "DELETE":
            return is_project_owner(request.user, project)
        return is_project_admin(request.user, project)


class IsSelfOrSuperuser(permissions.BasePermission):
    """A user's own record; superusers may see and change anyone's."""

    def has_object_permission(self, request, view, obj):
        owner = getattr(obj, "user_id", getattr(obj, "pk", None))
        return request.user.is_superuser or owner == request.user.pk


class IsStaff(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff)
