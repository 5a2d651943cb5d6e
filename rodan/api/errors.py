"""Errors under ``/api/`` are JSON: ``{"detail": ...}``, never an HTML page or a traceback.

An unexpected exception is logged with a short id, and the 500 reply quotes
that id so an operator can find the traceback in the server log.
"""

import logging
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import JsonResponse
from rest_framework.views import exception_handler

from rodan.database import is_outage
from rodan.storage import disk_full

logger = logging.getLogger("rodan.api")


def internal_error(request, exc):
    error_id = uuid.uuid4().hex[:12]
    logger.error("error %s on %s %s", error_id, request.method, request.path, exc_info=exc)
    return {"detail": f"Internal server error (error id {error_id}); the server log has the details."}


def too_big():
    """A body over Django's request limit is the client's error: 400 with the limit, not a 500."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return {"detail": f"The request body is larger than the limit of {limit} MiB (RODAN_MAX_UPLOAD_BYTES)."}


def no_space(request):
    """The server's disk is full: 507 (Insufficient Storage), a condition the client can wait out."""
    logger.error("disk full on %s %s", request.method, request.path)
    return {"detail": "The server's disk is full, so nothing was stored. Try again once an administrator has freed space."}


def database_away(request, exc):
    """The database is restarting or unreachable: 503, a condition that passes."""
    logger.error("database unreachable on %s %s: %s", request.method, request.path, str(exc).strip())
    return {"detail": "The server cannot reach its database at the moment, so nothing was changed. Try again in a minute."}


def conflict(request, exc):
    """A row this request relied on changed meanwhile (its project was deleted, say): 409, nothing stored."""
    logger.warning("conflict on %s %s: %s", request.method, request.path, str(exc).strip())
    return {"detail": "Something this request refers to was changed or deleted at the same time (for example its "
                      "project), so nothing was stored. Reload and try again."}


def unhandled(request, exc):
    """(body, status) for an exception no view turned into a reply: the known conditions, else a logged 500."""
    if isinstance(exc, RequestDataTooBig):
        return too_big(), 400
    if disk_full(exc):
        return no_space(request), 507
    if is_outage(exc):
        return database_away(request, exc), 503
    if isinstance(exc, IntegrityError):
        return conflict(request, exc), 409
    return internal_error(request, exc), 500


def handle_exception(exc, context):
    """DRF's handler, then ``unhandled`` for anything it does not know."""
    response = exception_handler(exc, context)
    if response is not None:
        return response
    from rest_framework.response import Response

    body, status = unhandled(context["request"], exc)
    return Response(body, status=status)


class ApiErrorMiddleware:
    """JSON bodies for exceptions raised outside DRF views (and for unknown routes) under ``/api/``.

    Async-capable, so an asynchronous view (the event stream) passes through
    it without a thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self._as_json(request, self.get_response(request))

    async def _acall(self, request):
        return self._as_json(request, await self.get_response(request))

    def _as_json(self, request, response):
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not hasattr(response, "data")  # DRF's own replies are already in the requested format
            and response.get("Content-Type", "").startswith("text/html")
        ):
            detail = "Not found." if response.status_code == 404 else response.reason_phrase
            return JsonResponse({"detail": detail}, status=response.status_code)
        return response

    def process_exception(self, request, exc):
        if not request.path.startswith("/api/"):
            return None
        from django.http import Http404

        if isinstance(exc, Http404):
            return JsonResponse({"detail": "Not found."}, status=404)
        body, status = unhandled(request, exc)
        return JsonResponse(body, status=status)
