"""Projects and their admins/workers lists (§2.3)."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan.api import filters
from rodan.api.permissions import ProjectAccess
from rodan.api.schema import ERRORS
from rodan.api.serializers.projects import ProjectDetailSerializer, ProjectListSerializer
from rodan.api.views.base import ScopedViewSet
from rodan.deletion import delete_project
from rodan.models import Project
from rodan.permissions import is_project_admin, is_project_owner, visible_projects


class ProjectViewSet(ScopedViewSet):
    queryset = Project.objects.select_related("creator").prefetch_related("admins", "workers")
    project_path = ""
    permission_classes = [permissions.IsAuthenticated, ProjectAccess]
    filterset_class = filters.ProjectFilter
    ordering_fields = ["name", "description", "created", "updated"]

    def get_serializer_class(self):
        return ProjectListSerializer if self.action in ("list", "create") else ProjectDetailSerializer

    @transaction.atomic
    def perform_create(self, serializer):
        project = serializer.save(creator=self.request.user)
        project.admins.add(self.request.user)

    def perform_destroy(self, project):
        delete_project(project)


def _usernames(data):
    """A JSON array of usernames, or a form whose keys are usernames (what the client sends)."""
    if isinstance(data, list):
        return data
    if hasattr(data, "keys"):
        return list(data.keys())
    raise serializers.ValidationError({"detail": "Send a list of usernames."})


class ProjectMembersView(APIView):
    """``project/<u>/admins/`` and ``workers/``: GET the usernames, PUT/PATCH replace the set.

    Members see both lists; the creator changes admins, the creator and
    admins change workers. The creator always stays an admin.
    """

    role = None  # "admins" or "workers"
    usernames = {"type": "array", "items": {"type": "string"}}
    permission_classes = [permissions.IsAuthenticated]

    def get_project(self, pk):
        return get_object_or_404(visible_projects(self.request.user), pk=pk)

    @extend_schema(responses={200: usernames})
    def get(self, request, pk, format=None):
        project = self.get_project(pk)
        return Response(list(getattr(project, self.role).values_list("username", flat=True)))

    @extend_schema(request={"application/json": usernames}, responses={200: usernames, 403: ERRORS[403]})
    def put(self, request, pk, format=None):
        project = self.get_project(pk)
        allowed = (is_project_owner if self.role == "admins" else is_project_admin)(request.user, project)
        if not allowed:
            self.permission_denied(request)
        names = _usernames(request.data)
        users = []
        for name in names:
            # No username holds a NUL, which PostgreSQL refuses in a query.
            user = None if "\x00" in str(name) else get_user_model().objects.filter(username=name).first()
            if user is None:
                return Response({"detail": f"User {name} does not exist."}, status=400)
            users.append(user)
        if self.role == "admins" and project.creator is not None and project.creator not in users:
            users.append(project.creator)
        getattr(project, self.role).set(users)
        return Response(list(getattr(project, self.role).values_list("username", flat=True)))

    patch = put
