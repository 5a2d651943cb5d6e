"""``project/<u>/events/``: a project's status changes as Server-Sent Events, read from the event log.

The view is asynchronous: an open stream waits on the process's shared
poller (``rodan.api.event_hub``) and holds no thread and no database
connection. Every event carries its log id (``id:``); a client that
reconnects with ``Last-Event-ID`` (EventSource does so by itself) first gets
the events it missed, from the log, then live ones, with no gap and nothing
twice. A client without one, or whose id is older than the pruned log, first
gets the current state of every RunJob and run of the project instead.
Each stream ends after ``RODAN_EVENT_STREAM_SECONDS`` (EventSource
reconnects). Polling the REST routes keeps working as before.
"""

import asyncio
import json
from functools import lru_cache
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from rodan.api.authentication import READ_ONLY_AUTHENTICATION
from rodan.api.event_hub import hub
from rodan.api.permissions import visible_projects
from rodan.engine import events as log
from rodan.models import RunJob, WorkflowRun

#: Events read from the log per query while a stream catches up.
CATCH_UP_BATCH = 500


async def _in_thread(function, *args):
    """Run ORM code in a pooled thread and give its connection back (no connection waits with the stream)."""

    def run():
        try:
            return function(*args)
        finally:
            close_old_connections()

    return await sync_to_async(run, thread_sensitive=False)()


def _authorize(django_request, pk):
    """The project's uuid, or the JSON 401/404 the REST API gives."""
    request = Request(django_request, authenticators=[cls() for cls in READ_ONLY_AUTHENTICATION])
    try:
        if not request.user.is_authenticated:
            raise NotAuthenticated()
    except (AuthenticationFailed, NotAuthenticated) as exc:
        response = JsonResponse({"detail": exc.detail}, status=exc.status_code)
        response["WWW-Authenticate"] = request.authenticators[0].authenticate_header(request)
        return response
    project = visible_projects(request.user).filter(pk=pk).values_list("pk", flat=True).first()
    if project is None:
        return JsonResponse({"detail": "No Project matches the given query."}, status=404)
    return project


def _last_event_id(request):
    value = request.headers.get("Last-Event-ID") or request.GET.get("lastEventId")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _is_stale(after, up_to):
    """Whether a client that saw events up to ``after`` must start from the current state instead."""
    if after is None or after > log.last_id():
        return True
    oldest = log.oldest_id()
    return after < up_to if oldest is None else after < oldest - 1


def _states(project_uuid):
    """The current RunJobs, then runs, of a project, as (kind, payload fields) pairs.

    Runs are read first: a run read as finished had every RunJob finished
    before the RunJobs are read, so a client that stops at its run's last
    status has already heard of every RunJob that led to it.
    """
    runs = list(WorkflowRun.objects.filter(project=project_uuid).values("uuid", "status"))
    run_jobs = RunJob.objects.filter(workflow_run__project=project_uuid).values(
        "uuid", "status", "workflow_run", "job_name", "error_summary"
    )
    states = [
        ("runjob", rj["uuid"], rj["status"], rj["error_summary"], {"workflow_run": rj["workflow_run"].hex, "job_name": rj["job_name"]})
        for rj in run_jobs
    ]
    states += [("workflowrun", run["uuid"], run["status"], "", {}) for run in runs]
    return states


def _state_text(project_uuid, cursor, base):
    return "".join(_message(cursor, state[0], _payload(*state, base)) for state in _states(project_uuid))


#: (project, cursor, base URL) -> the task reading that state, for the poller's current cursor only.
_state_reads = {}


async def _current_state(project_uuid, cursor, base):
    """The project's state as SSE text, read once for all the streams that open at the same cursor.

    A state read after the cursor was reached is good for every stream
    subscribed at that cursor: any later change has a later event, which
    the stream receives live. A hundred tabs opening at once cost one read.
    """
    key = (project_uuid, cursor, base)
    task = _state_reads.get(key)
    if task is None or task.done() and (task.cancelled() or task.exception() is not None):  # read again after a failure
        for stale in [k for k in _state_reads if k[1] != cursor]:
            del _state_reads[stale]
        task = _state_reads[key] = asyncio.ensure_future(_in_thread(_state_text, project_uuid, cursor, base))
    return await asyncio.shield(task)  # a stream that hangs up does not cancel the others' read


def _payload(kind, object_uuid, status, error_summary, data, base):
    """An event's JSON, with the fields (and absolute links) of the REST representation."""
    url = f"{base}/api/{kind}/{object_uuid}/"
    if kind == "workflowrun":
        return {"url": url, "uuid": object_uuid.hex, "status": status}
    if kind == "resource":
        return {
            "url": url, "uuid": object_uuid.hex, "name": data.get("name"),
            "resource_type": data.get("resource_type"), "status": status,
        }
    run_url = f"{base}/api/workflowrun/{UUID(data['workflow_run'])}/"
    if kind == "runjob":
        return {
            "url": url, "uuid": object_uuid.hex, "workflow_run": run_url, "job_name": data.get("job_name"),
            "status": status, "error_summary": error_summary,
        }
    return {
        "url": url, "uuid": object_uuid.hex, "workflow_run": run_url, "status": status,
        "percent_completed": data.get("percent_completed"), "error_summary": error_summary,
    }


def _message(event_id, kind, payload):
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(payload)}\n\n"


@lru_cache(maxsize=4096)
def _render(event, base):
    """One logged event as SSE text (cached: every stream of a project sends the same text)."""
    payload = _payload(event.kind, event.object_uuid, event.status, event.error_summary, event.data, base)
    return _message(event.id, event.kind, payload)


async def _stream(project_uuid, after, base):
    yield "retry: 1000\n\n"
    events_hub = hub()
    subscription, cursor = await events_hub.subscribe(project_uuid)
    try:
        if await _in_thread(_is_stale, after, cursor):
            state = await _current_state(project_uuid, cursor, base)
            if state:
                yield state
            after = cursor
        while after < cursor:  # catch up from the log, up to the poller's cursor
            missed = await _in_thread(log.project_events, project_uuid, after, cursor, CATCH_UP_BATCH)
            if missed:
                yield "".join(_render(event, base) for event in missed)
                after = missed[-1].id
            if len(missed) < CATCH_UP_BATCH:
                break
        loop = events_hub.loop
        deadline = loop.time() + settings.RODAN_EVENT_STREAM_SECONDS
        while loop.time() < deadline:
            batch = [event for event in await subscription.next_batch() if event.id > after]
            if batch:
                yield "".join(_render(event, base) for event in batch)
                after = batch[-1].id
            else:
                yield ": keep-alive\n\n"  # a tick of the poller, every TICK_SECONDS
    finally:
        events_hub.unsubscribe(subscription)


@require_GET
async def project_events(request, pk, format=None):
    authorized = await _in_thread(_authorize, request, pk)
    if isinstance(authorized, JsonResponse):
        return authorized
    base = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(_stream(authorized, _last_event_id(request), base), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


#: Served without a per-request thread (``rodan.asgi``): a stream may stay open for minutes.
project_events.long_lived = True
