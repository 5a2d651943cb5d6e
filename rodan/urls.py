from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

from rodan.views import health, interactive

urlpatterns = [
    path("api/ht/", health.health, name="health"),
    path("api/interactive/<uuid:run_job_id>/acquire/", interactive.acquire, name="interactive-acquire"),
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/(?P<relpath>.*)$",
        interactive.working,
        name="interactive-working",
    ),
    path("api/", include("rodan.api.urls")),
    # Resource files and results packages, without auth, as Rodan serves them (rodan-compat.md §1 Files).
    re_path(r"^uploads/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}, name="uploads"),
]
