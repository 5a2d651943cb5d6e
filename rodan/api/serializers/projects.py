"""Projects (§2.3): a list representation with counts, a detail one with members' objects."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rodan.api.fields import username_list
from rodan.models import Project


class ProjectListSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="project-detail")
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    admins = username_list()
    workers = username_list()
    workflow_count = serializers.IntegerField(source="workflows.count", read_only=True)
    resource_count = serializers.IntegerField(source="resources.count", read_only=True)
    resourcelist_count = serializers.IntegerField(source="resourcelists.count", read_only=True)

    class Meta:
        model = Project
        fields = [
            "url", "uuid", "name", "description", "creator", "admins", "workers", "created", "updated",
            "workflow_count", "resource_count", "resourcelist_count",
        ]


class _NamedLink(serializers.Serializer):
    """The schema of a ``{url, name}`` entry (the entries themselves are built by ``_named``)."""

    url = serializers.URLField(read_only=True)
    name = serializers.CharField(read_only=True)


class ProjectDetailSerializer(ProjectListSerializer):
    workflows = serializers.SerializerMethodField()
    resources = serializers.SerializerMethodField()
    resourcelists = serializers.SerializerMethodField()
    admins_url = serializers.SerializerMethodField()
    workers_url = serializers.SerializerMethodField()

    class Meta(ProjectListSerializer.Meta):
        fields = [
            "url", "uuid", "name", "description", "creator", "created", "updated", "admins", "workers",
            "workflows", "resources", "resourcelists", "admins_url", "workers_url",
        ]

    def _named(self, queryset, route):
        """``{url, name}`` of each object, newest first: two columns, one absolute URL prefix.

        Rows, not model instances: a related manager's instances deferred to
        (pk, name) each fetched their ``project_id`` again, a query per object.
        """
        prefix = self.context["request"].build_absolute_uri(f"/api/{route}/")
        return [{"url": f"{prefix}{pk}/", "name": name} for pk, name in queryset.values_list("pk", "name")]

    @extend_schema_field(_NamedLink(many=True))
    def get_workflows(self, project):
        return self._named(project.workflows.all(), "workflow")

    @extend_schema_field(_NamedLink(many=True))
    def get_resources(self, project):
        return self._named(project.resources.all(), "resource")

    @extend_schema_field(_NamedLink(many=True))
    def get_resourcelists(self, project):
        return self._named(project.resourcelists.all(), "resourcelist")

    @extend_schema_field(OpenApiTypes.URI)
    def get_admins_url(self, project):
        return self.context["request"].build_absolute_uri(f"/api/project/{project.pk}/admins/")

    @extend_schema_field(OpenApiTypes.URI)
    def get_workers_url(self, project):
        return self.context["request"].build_absolute_uri(f"/api/project/{project.pk}/workers/")
