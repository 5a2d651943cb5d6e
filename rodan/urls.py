from django.conf import settings
from django.urls import include, path, re_path
from django.contrib.staticfiles.views import serve as serve_static
from django.views.static import serve

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
    path("api/", include("rodan.api.urls")),
    # Resource files and results packages, without auth, as Rodan serves them (rodan-compat.md §1 Files).
    re_path(r"^uploads/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}, name="uploads"),
    # The built front ends (rodan.frontend) and the apps' static files, served by us: nothing comes from a CDN.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}, name="static"),
]
