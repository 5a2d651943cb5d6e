"""The web application (``frontend/src/app``): one page at ``/`` and every client-side route under it.

The page only loads the built script, which then talks to the REST API and
the event stream; routes are drawn in the browser, so any path the API, the
static files, the uploads or the interactive pages do not claim gets this page.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rodan import frontend


@require_GET
def index(request, path=""):
    try:
        assets = frontend.entry_assets("app")
    except frontend.NotBuilt as exc:
        return HttpResponse(f"The web application cannot open: {exc}.", content_type="text/plain; charset=utf-8", status=503)
    return render(request, "rodan/app.html", {"assets": assets})
