"""``/metrics``: Rodan's Prometheus families (``rodan.metrics``), for staff or the bearer of ``RODAN_METRICS_TOKEN``."""

from django.http import HttpResponse
from prometheus_client.exposition import choose_encoder
from rest_framework import exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from rodan import metrics


class MetricsAccess(permissions.BasePermission):
    message = "Metrics are for staff users, or for a scraper that sends the bearer token set in RODAN_METRICS_TOKEN."

    def has_permission(self, request, view):
        user = request.user if request.user and request.user.is_authenticated else None
        return metrics.allowed(request, user)


class JSONErrors(BaseContentNegotiation):
    """Refusals are JSON whatever the scraper accepts; the metrics themselves pick their format from Accept."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class Metrics(APIView):
    schema = None  # Prometheus's text format, not part of the REST API's schema
    permission_classes = [MetricsAccess]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrors

    def permission_denied(self, request, message=None, code=None):
        """A refusal says how to get in, also to a scraper without credentials (DRF's 401 would not)."""
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated(MetricsAccess.message)
        super().permission_denied(request, message, code)

    def get(self, request, format=None):
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return HttpResponse(encoder(metrics.registry(request)), content_type=content_type)
