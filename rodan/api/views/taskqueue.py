"""``taskqueue/active|scheduled|status/``: what Celery's workers report, for staff."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan.api.permissions import IsStaff

INSPECT_TIMEOUT = 1.0


class TaskQueue(APIView):
    permission_classes = [IsStaff]
    command = None  # "active", "scheduled" or "stats"

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, format=None):
        from rodan.celery import app

        return Response(getattr(app.control.inspect(timeout=INSPECT_TIMEOUT), self.command)() or {})
