"""Rodan's pagination envelope, and the query switches that turn it off."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class RodanPagination(PageNumberPagination):
    """20 per page, ``?page_size`` up to 100, with ``current_page`` and ``total_pages``.

    A view names the query parameter that returns a bare array instead
    (``disable_pagination`` on the registries and labels, ``no_page`` on
    resources) in ``unpaginated_param``; the Rodan client relies on it.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        param = getattr(view, "unpaginated_param", None)
        if param and param in request.query_params and (param == "no_page" or request.query_params[param]):
            return None
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "current_page": self.page.number,
                "total_pages": self.page.paginator.num_pages,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["current_page"] = {"type": "integer"}
        envelope["properties"]["total_pages"] = {"type": "integer"}
        return envelope
