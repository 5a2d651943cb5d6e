"""``/uploads/<path>``: resource files, their tiles and results packages, for those who may read them.

The rule (members of the file's project, or a signed link) is
``rodan.file_access``; this view only applies it and serves the file.
"""

from django.views.static import serve
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from rodan import file_access, storage
from rodan.api.authentication import READ_ONLY_AUTHENTICATION
from rodan.permissions import visible_projects

EXPIRED = "This file link has expired or is not valid: reload the page or ask the API for a fresh link."
LOG_IN = "Log in to read this file, or use the link the API gives for it."


class UploadedFile(APIView):
    authentication_classes = READ_ONLY_AUTHENTICATION
    permission_classes = [AllowAny]  # the file's project decides, below
    renderer_classes = [JSONRenderer]  # refusals are JSON sentences whatever a browser accepts
    schema = None  # a file, not part of the REST API's schema

    def get(self, request, path):
        relative = file_access.normalized(path)
        project = file_access.project_of(relative) if relative else None
        if project is None:
            raise NotFound("No such file.")
        given = request.query_params.get(file_access.PARAMETER)
        if given is None or not file_access.link_is_valid(relative, given):
            if not request.user.is_authenticated:
                raise PermissionDenied(EXPIRED) if given is not None else NotAuthenticated(LOG_IN)
            if not visible_projects(request.user).filter(pk=project).exists():
                raise NotFound("No such file.")
        return serve(request, relative, document_root=storage.media_root())
