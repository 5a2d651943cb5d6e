"""Interactive jobs in the browser (rodan-compat.md §2.11 and §4.4).

A user acquires a waiting RunJob and gets a working URL holding a secret
token; the URL serves the job's page and static files, and takes the
submission, which the job's ``validate_my_user_input`` judges.
"""

import importlib
import json
import secrets
from datetime import timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django.views.static import serve
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from rodan import interactive_work, storage, tiles
from rodan.api.parsers import BoundedDecoder
from rodan.engine import lifecycle
from rodan.engine.execution import build_inputs, settings_for_job
from rodan.jobs.base import WAITING_FOR_INPUT, ManualPhaseException
from rodan.jobs.registry import get_registry
from rodan.models import RunJob
from rodan.models.status import RunJobStatus
from rodan.permissions import can_view_project


def _message(text, status):
    return JsonResponse({"message": text}, status=status)


def _utc(moment):
    return moment.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


@extend_schema(request=None, responses=OpenApiTypes.OBJECT)
@api_view(["POST"])
def acquire(request, run_job_id):
    run_job = RunJob.objects.select_related("workflow_run__project").filter(pk=run_job_id).first()
    if run_job is None or not can_view_project(request.user, run_job.workflow_run.project):
        return Response({"detail": "Not found."}, status=404)
    with transaction.atomic():
        run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
        now = timezone.now()
        held = run_job.working_user_id and run_job.working_user_expiry and run_job.working_user_expiry > now
        if held and run_job.working_user_id != request.user.pk and run_job.status == RunJobStatus.WAITING_FOR_INPUT:
            return Response({"message": "Previous working user has not expired yet."}, status=400)
        renewed = held and run_job.working_user_token
        token = run_job.working_user_token if renewed else secrets.token_hex(16)
        start = run_job.working_user_expiry if renewed else now
        try:
            lifecycle.acquire(
                run_job, request.user, token, start + timedelta(seconds=settings.RODAN_WORKING_USER_EXPIRY)
            )
        except lifecycle.InvalidTransition as exc:
            return Response({"message": str(exc)}, status=400)
    working_url = request.build_absolute_uri(f"/api/interactive/{run_job.pk}/{run_job.working_user_token}/")
    return Response({"working_url": working_url, "working_user_expiry": _utc(run_job.working_user_expiry)})


def _package_dir(job_class):
    return Path(importlib.import_module(job_class.package_name()).__file__).parent


def _safe_join(root, relative):
    """``root/relative``, or None when ``relative`` is absolute or climbs out of ``root``."""
    if not relative or relative.startswith("/") or ".." in Path(relative).parts:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def _user_input(request):
    if request.content_type == "application/json":
        return json.loads(request.body or b"null", cls=BoundedDecoder)
    serialized = request.POST.get("__serialized__")
    if serialized is None:
        raise ValueError("send JSON, or a form field __serialized__ holding JSON")
    return json.loads(serialized, cls=BoundedDecoder)


def _held(run_job_id, token):
    """(the waiting RunJob the token holds, None), or (None, the error response)."""
    run_job = RunJob.objects.select_related("workflow_run").filter(pk=run_job_id).first()
    if run_job is None:
        raise Http404("No such RunJob")
    expired = not run_job.working_user_expiry or run_job.working_user_expiry <= timezone.now()
    if not run_job.working_user_token or not secrets.compare_digest(run_job.working_user_token, token) or expired:
        return None, _message("Permission denied", 401)
    if run_job.status != RunJobStatus.WAITING_FOR_INPUT:
        return None, _message("This RunJob does not accept input now", 400)
    return run_job, None


@csrf_exempt
def working(request, run_job_id, token, relpath=""):
    if request.method not in ("GET", "POST"):
        return _message("Method not allowed", 405)
    run_job, refusal = _held(run_job_id, token)
    if refusal:
        return refusal
    try:
        job_class = get_registry().job_class(run_job.job_name)
    except LookupError as exc:
        return _message(str(exc), 503)
    job = job_class()
    inputs = build_inputs(run_job, for_interface=True)
    arguments = settings_for_job(run_job.job_settings, job_class.settings)
    if request.method == "GET":
        return _serve(request, job, job_class, inputs, arguments, relpath)
    return _submit(request, job, run_job, inputs, arguments, relpath)


#: A page names its built files with ``?v=<build>``: such a URL never changes content, so the
#: browser keeps it (Neon's verovio worker is 8 MB) until the build or the token changes.
VERSIONED_FILE_CACHE = "private, max-age=31536000, immutable"


def _serve(request, job, job_class, inputs, arguments, relpath):
    package_dir = _package_dir(job_class)
    if relpath:
        static = package_dir / "static"
        path = _safe_join(static, relpath.removeprefix("static/")) or _safe_join(static, relpath)
        if path is None:
            raise Http404("No such file")
        response = FileResponse(open(path, "rb"))
        response["Cache-Control"] = VERSIONED_FILE_CACHE if request.GET.get("v") else "private, no-cache"
        return response
    template_path, context = job.get_my_interface(inputs, arguments)
    source = _safe_join(package_dir, template_path)
    if source is None:
        raise Http404("The job's interface template is missing")
    template = engines["django"].from_string(source.read_text(encoding="utf-8"))
    return HttpResponse(template.render(context))


def _submit(request, job, run_job, inputs, arguments, relpath):
    try:
        user_input = _user_input(request)
    except ValueError as exc:
        return JsonResponse({"detail": f"Could not read the submission: {exc}"}, status=400)
    job.url = relpath
    try:
        result = job.validate_my_user_input(inputs, arguments, user_input)
    except ManualPhaseException as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    if isinstance(result, WAITING_FOR_INPUT):
        lifecycle.keep_waiting(run_job, result.settings_update)
        return HttpResponse(result.response if result.response is not None else b"")
    if isinstance(result, dict) and "manual" in result:
        return JsonResponse(result)
    if not isinstance(result, dict):
        return JsonResponse({"detail": "The job's validation returned no result."}, status=500)
    try:
        lifecycle.submit(run_job, result)
    except lifecycle.InvalidTransition as exc:
        return _message(str(exc), 400)
    interactive_work.clear(run_job)  # the job now holds the submitted work
    return HttpResponse(b"")


@csrf_exempt
def saved_work(request, run_job_id, token):
    """GET the page's saved work; PUT ``{"editor", "version", "work" or "append", "take_over"?}`` to save it.

    Without ``work`` or ``append`` a PUT only takes or renews the edit lock (rodan.interactive_work).
    """
    if request.method not in ("GET", "PUT"):
        return _message("Method not allowed", 405)
    run_job, refusal = _held(run_job_id, token)
    if refusal:
        return refusal
    if request.method == "GET":
        return JsonResponse(interactive_work.load(run_job))
    try:
        body = json.loads(request.body or b"null", cls=BoundedDecoder)
    except ValueError as exc:
        return _message(f"Could not read the saved work: {exc}", 400)
    if not isinstance(body, dict):
        return _message('Send {"editor": ..., "version": ..., "work": {...}}.', 400)
    take_over = body.get("take_over") is True
    try:
        if "work" in body or "append" in body:
            answer = interactive_work.save(run_job, body.get("editor"), body.get("version"), body.get("work"),
                                           body.get("append"), take_over)
        else:
            answer = {"version": interactive_work.claim(run_job, body.get("editor"), take_over)}
    except interactive_work.WorkError as exc:
        return JsonResponse({"message": str(exc), "version": exc.version}, status=exc.http_status)
    return JsonResponse(answer)


def _input_resource(run_job, port):
    """The resource on the RunJob's input ``port`` (its first), or Http404."""
    bound = run_job.inputs.select_related("resource__resource_type").filter(
        input_port_type_name=port, resource__isnull=False
    ).order_by("created").first()
    if bound is None:
        raise Http404("No such input")
    return bound.resource


@require_GET
def input_file(request, run_job_id, token, port):
    """The file on an input port, for the page (e.g. Pixel's layer PNGs), under the working URL's token."""
    run_job, refusal = _held(run_job_id, token)
    if refusal:
        return refusal
    resource = _input_resource(run_job, port)
    if not resource.is_ready:
        raise Http404("The input has no file yet")
    return FileResponse(open(storage.absolute_path(resource), "rb"), content_type=resource.resource_type.mimetype)


@require_GET
def input_tiles(request, run_job_id, token, port):
    """Where the deep-zoom tiles of an input image stand, and their tile source once ready (rodan.tiles)."""
    run_job, refusal = _held(run_job_id, token)
    if refusal:
        return refusal
    resource = _input_resource(run_job, port)
    state = tiles.status(resource)
    if state["state"] == tiles.READY:
        url = reverse("interactive-input-tile", args=[run_job.pk, token, port, ""])
        return JsonResponse({"state": tiles.READY, "tileSource": tiles.tile_source(state["pyramid"], url)})
    if state["state"] == tiles.FAILED:
        return JsonResponse({"state": tiles.FAILED, "message": f"The page's tiles could not be made: {state['error']}."})
    percent = state.get("percent", 0)
    message = (f"Preparing the page for viewing: {percent}% done." if state["state"] == tiles.RUNNING
               else "The page is waiting for a worker to prepare it for viewing.")
    return JsonResponse({"state": state["state"], "percent": percent, "message": message})


@require_GET
def input_tile(request, run_job_id, token, port, relpath):
    """One tile of an input image's pyramid."""
    run_job, refusal = _held(run_job_id, token)
    if refusal:
        return refusal
    state = tiles.status(_input_resource(run_job, port))
    if state["state"] != tiles.READY:
        return _message("The tiles of this image are not ready.", 404)
    folder = storage.media_root() / f"{state['pyramid']}/{tiles.PYRAMID_NAME}_files"
    return serve(request, relpath, document_root=folder)
