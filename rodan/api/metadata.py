"""OPTIONS replies: DRF's metadata plus the filters and orderings a list offers.

The Rodan client builds its filter inputs from ``filter_fields``
(``{field: [lookups]}``) and sort controls from ``ordering_fields``.
"""

from collections import defaultdict

from django_filters.constants import ALL_FIELDS
from rest_framework.metadata import SimpleMetadata


def filter_fields(filterset_class):
    fields = defaultdict(list)
    for name, declared in filterset_class.base_filters.items():
        field, _, lookup = name.partition("__")
        if "__" in lookup:  # e.g. creator__username__icontains
            field, lookup = name.rsplit("__", 1)
        fields[field].append(lookup or declared.lookup_expr)
    return dict(fields)


class RodanMetadata(SimpleMetadata):
    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        filterset_class = getattr(view, "filterset_class", None)
        metadata["filter_fields"] = filter_fields(filterset_class) if filterset_class else {}
        ordering = getattr(view, "ordering_fields", None)
        metadata["ordering_fields"] = [] if ordering in (None, ALL_FIELDS) else list(ordering)
        return metadata
