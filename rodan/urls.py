from django.urls import include, path, re_path
from django.contrib.staticfiles.views import serve as serve_static

from rodan.api.views.files import UploadedFile
from rodan.views import health, interactive, viewer

urlpatterns = [
    path("api/ht/", health.health, name="health"),
    path("api/interactive/<uuid:run_job_id>/acquire/", interactive.acquire, name="interactive-acquire"),
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/(?P<relpath>.*)$",
        interactive.working,
        name="interactive-working",
    ),
    path("api/resource/<uuid:resource_id>/acquire/", viewer.acquire, name="resource-acquire"),
    re_path(r"^api/resource/(?P<resource_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]{32})/$", viewer.page, name="resource-viewer"),
    re_path(
        r"^api/resource/(?P<resource_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]{32})/tiles/$",
        viewer.tile_status,
        name="resource-viewer-tiles",
    ),
    re_path(
        r"^api/resource/(?P<resource_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]{32})/tiles/files/(?P<relpath>.*)$",
        viewer.tile,
        name="resource-viewer-tile",
    ),
    path("api/", include("rodan.api.urls")),
    # Resource files and results packages at Rodan's paths, but only to those who may read them (rodan.file_access).
    re_path(r"^uploads/(?P<path>.*)$", UploadedFile.as_view(), name="uploads"),
    # The built front ends (rodan.frontend) and the apps' static files, served by us: nothing comes from a CDN.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}, name="static"),
]
