"""``project/<u>/events/``: run and run-job status changes as Server-Sent Events.

The stream polls the database, which is the only truth, and sends an event
whenever a run's or a RunJob's status (or its RunJob's error) changed since
it last looked; it starts with every current status, so a client needs no
separate first fetch. Each stream ends after ``RODAN_EVENT_STREAM_SECONDS``
(EventSource reconnects by itself) so a web server thread is never held for
good. Polling the REST routes keeps working as before.
"""

import json
import time

from django.conf import settings
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import TokenAuthentication
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from rodan.api.permissions import visible_projects
from rodan.models import RunJob, WorkflowRun

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15


class EventStreamRenderer(BaseRenderer):
    """Lets content negotiation accept ``Accept: text/event-stream``; the view streams itself."""

    media_type = "text/event-stream"
    format = "event-stream"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()


def _event(kind, payload):
    return f"event: {kind}\ndata: {json.dumps(payload)}\n\n"


def _states(project, url):
    """{(kind, uuid): payload} of every RunJob and run of ``project``.

    RunJobs come first, so a client that stops at its run's last status has
    already heard of every RunJob that led to it.
    """
    # Runs are read first: a run read as finished had every RunJob finished before the RunJobs are read.
    runs = list(WorkflowRun.objects.filter(project=project).values("uuid", "status"))
    states = {}
    run_jobs = RunJob.objects.filter(workflow_run__project=project).values(
        "uuid", "status", "workflow_run", "job_name", "error_summary"
    )
    for run_job in run_jobs:
        states[("runjob", run_job["uuid"])] = {
            "url": url(f"/api/runjob/{run_job['uuid']}/"),
            "uuid": run_job["uuid"].hex,
            "workflow_run": url(f"/api/workflowrun/{run_job['workflow_run']}/"),
            "job_name": run_job["job_name"],
            "status": run_job["status"],
            "error_summary": run_job["error_summary"],
        }
    for run in runs:
        states[("workflowrun", run["uuid"])] = {
            "url": url(f"/api/workflowrun/{run['uuid']}/"), "uuid": run["uuid"].hex, "status": run["status"]
        }
    return states


class CookieTokenAuthentication(TokenAuthentication):
    """The token from the ``token`` cookie, where the Rodan client keeps it.

    A browser's EventSource cannot send an Authorization header; this read-only
    stream is the only view that accepts the cookie, so no state-changing
    request can ride on it.
    """

    def authenticate(self, request):
        key = request.COOKIES.get("token")
        return self.authenticate_credentials(key) if key else None


class CookieTokenScheme(OpenApiAuthenticationExtension):
    """Names the cookie scheme in the OpenAPI schema, apart from the header token."""

    target_class = CookieTokenAuthentication
    name = "cookieTokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "token"}


class ProjectEvents(APIView):
    renderer_classes = [EventStreamRenderer, JSONRenderer]  # errors come back as JSON either way
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, CookieTokenAuthentication]

    @extend_schema(responses={(200, "text/event-stream"): OpenApiTypes.STR})
    def get(self, request, pk, format=None):
        project = get_object_or_404(visible_projects(request.user), pk=pk)
        url = request.build_absolute_uri
        lifetime = settings.RODAN_EVENT_STREAM_SECONDS

        def stream():
            yield "retry: 1000\n\n"
            seen, deadline, quiet_since = {}, time.monotonic() + lifetime, time.monotonic()
            while time.monotonic() < deadline:
                current = _states(project, url)
                changed = [(key, payload) for key, payload in current.items() if seen.get(key) != payload]
                for (kind, _), payload in changed:
                    yield _event(kind, payload)
                seen = current
                if changed:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                    yield ": keep-alive\n\n"
                    quiet_since = time.monotonic()
                time.sleep(POLL_SECONDS)

        response = StreamingHttpResponse(stream(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
