from django.urls import include, path, re_path
from django.contrib.staticfiles.views import serve as serve_static

from rodan.api.views.files import UploadedFile
from rodan.views import app, health, interactive, metrics, viewer

urlpatterns = [
    path("api/ht/", health.health, name="health"),
    # Prometheus scrapes here (rodan.metrics; README, "Monitoring").
    path("metrics", metrics.Metrics.as_view(), name="metrics"),
    path("api/interactive/<uuid:run_job_id>/acquire/", interactive.acquire, name="interactive-acquire"),
    # The page's saved work and its inputs (Pixel, Neon), before the working URL's catch-all of static files.
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/work/$",
        interactive.saved_work,
        name="interactive-work",
    ),
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/inputs/(?P<port>[^/]+)/file/$",
        interactive.input_file,
        name="interactive-input-file",
    ),
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/inputs/(?P<port>[^/]+)/tiles/$",
        interactive.input_tiles,
        name="interactive-input-tiles",
    ),
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/inputs/(?P<port>[^/]+)/tiles/files/"
        r"(?P<relpath>.*)$",
        interactive.input_tile,
        name="interactive-input-tile",
    ),
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
    # Static files and the built front ends are served by WhiteNoise's middleware (settings); this serves what
    # it did not index at startup (a front end built after the server started). Nothing comes from a CDN.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}, name="static"),
    # The web application (rodan.views.app) at / and its client-side routes: every path not claimed above.
    re_path(r"^(?!(?:api|static|uploads|admin|metrics)(?:/|$))(?P<path>.*)$", app.index, name="app"),
]
