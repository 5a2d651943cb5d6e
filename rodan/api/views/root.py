"""The API root (§2.1): every route name the client looks up, configuration and version."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan.api.pagination import RodanPagination
from rodan.jobs.registry import get_registry

VERSION = "v3.1.0"

#: Route names the Rodan client looks up -> URL names here.
ROUTES = {
    name: f"{name}-list"
    for name in (
        "projects", "workflows", "workflowjobs", "workflowjobgroups", "workflowruns", "runjobs", "jobs", "users",
        "userpreferences", "resultspackages", "connections", "outputporttypes", "outputports", "inputporttypes",
        "inputports", "resources", "labels", "resourcelists", "resourcetypes", "outputs", "inputs",
    )
}
ROUTES.update(
    {
        name: name
        for name in (
            "resource-archive", "taskqueue-active", "taskqueue-scheduled", "taskqueue-status", "auth-me",
            "auth-register", "auth-activate", "auth-resend-activation", "auth-token", "auth-reset-token",
            "auth-change-password", "auth-reset-password", "auth-reset-password-confirm",
        )
    }
)


class Root(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, format=None):
        registry = get_registry()
        packages = {f"rodan.jobs.{name.rsplit('.', 1)[-1]}": family.version for name, family in registry.families.items()}
        return Response(
            {
                "routes": {name: request.build_absolute_uri(reverse(url)) for name, url in ROUTES.items()},
                "configuration": {"page_length": RodanPagination.page_size, "job_packages": packages},
                "version": VERSION,
                "build_hash": "local",
            }
        )
