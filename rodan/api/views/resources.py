"""Resources (upload, labels, archive), resource lists and labels (§2.5-2.6)."""

import io
import uuid
import zipfile

from django.db.models import ProtectedError
from django.http import FileResponse, HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan import storage, tiles
from rodan.api import filters
from rodan.api.authentication import READ_ONLY_AUTHENTICATION
from rodan.api.schema import ERRORS
from rodan.api.serializers.resources import (
    LabelSerializer,
    ResourceListSerializer,
    ResourceSerializer,
    UploadSerializer,
    apply_label_names,
    thumbnail_version,
)
from rodan.api.views.base import ScopedViewSet, fields_of
from rodan.models import Label, Resource, ResourceList, RunJob
from rodan.naming import entry_name, file_name, unique_name
from rodan.permissions import scope
from rodan.uploads import UploadError, create_resources


class ResourceViewSet(ScopedViewSet):
    queryset = Resource.objects.select_related("resource_type", "creator", "project").prefetch_related("labels")
    serializer_class = ResourceSerializer
    filterset_class = filters.ResourceFilter
    ordering_fields = ["name", "created", "updated", "resource_type", "processing_status", "creator"]
    unpaginated_param = "no_page"

    def create(self, request, *args, **kwargs):
        """Multipart upload of one or more files, all stored or none; the reply is a JSON array of new Resources."""
        fields = fields_of(request)
        data = {key: fields.get(key) for key in ("project", "type", "label_names") if key in fields}
        data["files"] = request.FILES.getlist("files")
        upload = UploadSerializer(data=data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        labels = upload.validated_data.get("label_names")
        try:
            created = create_resources(
                upload.validated_data["project"],
                [(uploaded.name, uploaded.chunks()) for uploaded in upload.validated_data["files"]],
                creator=request.user,
                claimed_type=upload.validated_data.get("type"),
                each=lambda resource: apply_label_names(resource, labels),
            )
        except UploadError as exc:
            return Response({"files": [str(exc)]}, status=400)
        return Response(self.get_serializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 409: OpenApiResponse(
        inline_serializer("ResourceInUse", {"Error": serializers.CharField()}), "A RunJob uses the resource (Rodan's shape).",
    )})
    def destroy(self, request, *args, **kwargs):
        resource = self.get_object()
        in_use = RunJob.objects.filter(inputs__resource=resource).exists()
        if in_use:
            return Response({"Error": "The resource is used by a RunJob and cannot be deleted."}, status=409)
        try:
            resource.delete()
        except ProtectedError:
            return Response({"Error": "The resource is used by a RunJob and cannot be deleted."}, status=409)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[OpenApiParameter("resource_uuid", OpenApiTypes.UUID, many=True, description="A resource to include.")],
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 400: ERRORS[400]},
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="archive")
    def archive(self, request, format=None):
        """``resources/archive/?resource_uuid=<u>&...``: the ready files as ``Archive.zip``."""
        wanted = []
        for value in request.query_params.getlist("resource_uuid"):
            try:
                wanted.append(uuid.UUID(value))
            except ValueError:
                continue  # a malformed id names no resource
        resources = [r for r in self.get_queryset().filter(pk__in=wanted) if r.is_ready]
        if not resources:
            return Response({"detail": "No ready resources were found."}, status=400)
        buffer = io.BytesIO()
        taken = set()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for resource in resources:
                archive.write(storage.absolute_path(resource), unique_name(entry_name(file_name(resource)), taken))
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="Archive.zip"'
        return response


#: How long a browser keeps a thumbnail whose URL names the file's version (``?v=``, as the serializer writes it).
THUMBNAIL_MAX_AGE = 7 * 24 * 3600


class ResourceThumbnail(APIView):
    """``resource/<u>/thumbnail/<small|medium|large>/``: a JPEG of the image, made on first request (``rodan.tiles``).

    Readable by whoever may read the resource, with the ``token`` cookie too
    (an ``<img>`` sends no header). The URL's ``v`` names the file's version,
    so a browser keeps it; without it the browser revalidates (ETag).
    """

    authentication_classes = READ_ONLY_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]  # refusals are JSON sentences whatever an <img> accepts
    schema = None  # an image, like the files under /uploads/: not part of the REST API's schema

    def get(self, request, pk, size):
        if size not in tiles.THUMBNAIL_SIZES:
            raise NotFound(f"There is no thumbnail size “{size}”: use {', '.join(tiles.THUMBNAIL_SIZES)}.")
        resource = scope(Resource.objects.select_related("resource_type"), "project", request.user).filter(pk=pk).first()
        if resource is None:
            raise NotFound("No such resource.")
        if not tiles.is_image(resource):
            raise NotFound("This resource is not an image, so it has no thumbnail.")
        try:
            path = tiles.thumbnail(resource, size)
        except FileNotFoundError:
            raise NotFound("This resource has no file yet, so it has no thumbnail.")
        except tiles.TileError as exc:
            raise NotFound(f"No thumbnail: {exc}.")
        etag = f'"{path.stem}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            response = FileResponse(open(path, "rb"), content_type="image/jpeg")
        response["ETag"] = etag
        versioned = request.query_params.get("v") == thumbnail_version(resource)
        response["Cache-Control"] = f"private, max-age={THUMBNAIL_MAX_AGE}, immutable" if versioned else "private, no-cache"
        return response


class ResourceListViewSet(ScopedViewSet):
    queryset = ResourceList.objects.select_related("project", "creator")
    serializer_class = ResourceListSerializer
    filterset_class = filters.ResourceListFilter
    ordering_fields = ["name", "created", "updated"]

    def perform_create(self, serializer):
        serializer.save(creator=self.request.user)


class LabelViewSet(ScopedViewSet):
    """Labels on resources of the user's projects; they are created through ``label_names``."""

    queryset = Label.objects.order_by("name")
    serializer_class = LabelSerializer
    project_path = "resources__project"
    distinct = True
    filterset_class = filters.LabelFilter
    ordering_fields = ["name"]
    unpaginated_param = "disable_pagination"
    http_method_names = ["get", "put", "patch", "delete", "head", "options"]
