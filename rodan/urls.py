from django.urls import path, re_path

from rodan.views import health, interactive

urlpatterns = [
    path("api/ht/", health.health, name="health"),
    path("api/interactive/<uuid:run_job_id>/acquire/", interactive.acquire, name="interactive-acquire"),
    re_path(
        r"^api/interactive/(?P<run_job_id>[0-9a-f-]{32,36})/(?P<token>[0-9a-f]+)/(?P<relpath>.*)$",
        interactive.working,
        name="interactive-working",
    ),
]
