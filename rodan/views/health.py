"""``/api/ht/``: 200 when the database answers, else 500; the jobs, the families and jobs that failed to load and why, the open event streams."""

from django.db import connection
from django.http import JsonResponse

from rodan.api.event_hub import open_streams
from rodan.jobs.registry import get_registry


def health(request):
    registry = get_registry()
    body = {
        "jobs": len(registry.jobs),
        "unavailable_job_families": {
            name: family.error for name, family in registry.families.items() if not family.available
        },
        "rejected_jobs": registry.rejected,
        "event_streams": open_streams(),
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = "ok"
    except Exception as exc:  # report, don't raise: this route exists to say what is wrong
        body["database"] = f"{type(exc).__name__}: {exc}"
        return JsonResponse({"status": "error", **body}, status=500)
    return JsonResponse({"status": "ok", **body})
