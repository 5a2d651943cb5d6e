"""The resource viewer (rodan-compat.md §2.5): acquire a working URL, open the page, follow the tiles.

``POST /api/resource/<u>/acquire/`` (login, the project visible) answers the
working URL ``/api/resource/<u>/<token>/``, which needs no login: it serves
the deep-zoom viewer page for images, and ``tiles/`` under it says where the
resource's tiles stand (``rodan.tiles``), so the page can show their progress
and then open them.
"""

from datetime import timezone as dt_timezone

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.static import serve
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from rodan import frontend, storage, tiles, viewers
from rodan.models import Resource
from rodan.permissions import can_view_project

EXPIRED = "This viewer link has expired or is not valid. Open the resource again from its project for a new link."
NO_FILE = "This image has no file yet: the job that makes it has not finished."
NOT_AN_IMAGE = "This resource is not an image, so there is nothing to show here."
NO_MEI_VIEWER = "MEI files open in Neon, which this server does not serve yet."


@extend_schema(request=None, responses=OpenApiTypes.OBJECT)
@api_view(["POST"])
def acquire(request, resource_id):
    resource = Resource.objects.select_related("project").filter(pk=resource_id).first()
    if resource is None or not can_view_project(request.user, resource.project):
        return Response({"detail": "Not found."}, status=404)
    token = viewers.issue_token(request.user)
    working_url = request.build_absolute_uri(reverse("resource-viewer", args=[resource.pk, token.key]))
    expiry = token.expiry.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")
    return Response({"working_url": working_url, "working_user_expiry": expiry})


def _resource_for(token, resource_id):
    """(resource, None), or (None, (message, status)) when the token or the resource does not let us show it."""
    user = viewers.token_user(token)
    if user is None:
        return None, ("Permission denied", 401)
    resource = Resource.objects.select_related("project", "resource_type").filter(pk=resource_id).first()
    if resource is None or not can_view_project(user, resource.project):
        return None, ("Not found.", 404)
    if not tiles.is_image(resource):
        return None, (NO_MEI_VIEWER if resource.resource_type.mimetype == viewers.MEI else NOT_AN_IMAGE, 404)
    return resource, None


def _page_message(request, text, status):
    """An error sentence: a small page for a browser, Rodan's ``{"message"}`` for a client asking for JSON."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"message": text}, status=status)
    response = render(request, "rodan/viewer_message.html", {"message": text}, status=status)
    response.data = {"message": text}  # tells ApiErrorMiddleware this reply is already in its final format
    return response


@require_GET
def page(request, resource_id, token):
    resource, refusal = _resource_for(token, resource_id)
    if refusal:
        text, status = refusal
        return _page_message(request, EXPIRED if status == 401 else text, status)
    try:
        assets = frontend.entry_assets("viewer")
    except frontend.NotBuilt as exc:
        return _page_message(request, f"The viewer cannot open: {exc}.", 503)
    config = {"name": resource.name, "tilesUrl": reverse("resource-viewer-tiles", args=[resource.pk, token])}
    return render(request, "rodan/viewer.html", {"resource": resource, "assets": assets, "config": config})


def _tile_source(pyramid, resource, token):
    """The tile source, with tiles served under the viewer's own token (``tile``), not at
    ``/uploads/``, which would need credentials the page's requests lack."""
    return tiles.tile_source(pyramid, reverse("resource-viewer-tile", args=[resource.pk, token, ""]))


@require_GET
def tile_status(request, resource_id, token):
    """Where the tiles stand, as a sentence for the page, and the tile source once they are ready."""
    resource, refusal = _resource_for(token, resource_id)
    if refusal:
        text, status = refusal
        return JsonResponse({"message": EXPIRED if status == 401 else text}, status=status)
    state = tiles.status(resource)
    if state["state"] == tiles.READY:
        return JsonResponse({"state": tiles.READY, "tileSource": _tile_source(state["pyramid"], resource, token)})
    if state["state"] == tiles.WAITING:
        return JsonResponse({"state": tiles.WAITING, "message": NO_FILE})
    if state["state"] == tiles.FAILED:
        return JsonResponse(
            {"state": tiles.FAILED, "message": f"The tiles of this image could not be made: {state['error']}."}
        )
    percent = state["percent"]
    message = (
        f"Preparing this image for viewing: {percent}% done."
        if state["state"] == tiles.RUNNING
        else "This image is waiting for a worker to prepare it for viewing."
    )
    return JsonResponse({"state": state["state"], "percent": percent, "message": message})


@require_GET
def tile(request, resource_id, token, relpath):
    """One tile of the resource's pyramid, for the holder of a viewer token."""
    resource, refusal = _resource_for(token, resource_id)
    if refusal:
        text, status = refusal
        return JsonResponse({"message": EXPIRED if status == 401 else text}, status=status)
    state = tiles.status(resource)
    if state["state"] != tiles.READY:
        return JsonResponse({"message": "The tiles of this image are not ready."}, status=404)
    return serve(request, relpath, document_root=storage.media_root() / f"{state['pyramid']}/{tiles.PYRAMID_NAME}_files")
