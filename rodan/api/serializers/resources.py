"""Resources, resource lists and labels (§2.5-2.6)."""

from drf_spectacular.utils import extend_schema_field
from django.urls import reverse
from rest_framework import serializers

from rodan import tiles, viewers
from rodan.api.fields import Link, media_url
from rodan.api.serializers.registry import ResourceTypeSerializer
from rodan.models import Label, Project, Resource, ResourceList, ResourceListMembership, ResourceType

MAX_LABEL_LENGTH = 36


class LabelSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="label-detail")

    class Meta:
        model = Label
        fields = ["url", "name", "uuid"]


def apply_label_names(resource, label_names):
    """Replace ``resource``'s labels by the comma-separated names; drop labels nobody uses any more.

    Rodan skips names longer than 36 characters, and the client may send
    the string "undefined" when the user typed nothing.
    """
    if label_names is None or label_names == "undefined":
        return
    names = {n.strip() for n in label_names.split(",") if n.strip() and len(n.strip()) <= MAX_LABEL_LENGTH}
    previous = set(resource.labels.values_list("pk", flat=True))
    resource.labels.set([Label.objects.get_or_create(name=name)[0] for name in sorted(names)])
    Label.objects.filter(pk__in=previous, resources__isnull=True).delete()


def thumbnail_version(resource):
    """What changes when the resource's file does (its row is saved with the new file): the thumbnail URL's ``v``."""
    return format(int(resource.updated.timestamp() * 1000), "x")


class ResourceSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="resource-detail")
    project = Link("project-detail", project_path="", queryset=Project.objects)
    resource_type = serializers.HyperlinkedRelatedField(
        view_name="resourcetype-detail", queryset=ResourceType.objects.all()
    )
    resource_file = serializers.SerializerMethodField()
    viewer_url = serializers.SerializerMethodField()
    small_thumb = serializers.SerializerMethodField()
    medium_thumb = serializers.SerializerMethodField()
    large_thumb = serializers.SerializerMethodField()
    labels = LabelSerializer(many=True, read_only=True)
    label_names = serializers.CharField(write_only=True, required=False, allow_blank=True)
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    origin = serializers.HyperlinkedRelatedField(view_name="output-detail", read_only=True)

    class Meta:
        model = Resource
        fields = [
            "url", "uuid", "name", "description", "created", "updated", "project", "resource_type",
            "resource_file", "viewer_url", "small_thumb", "medium_thumb", "large_thumb", "labels", "label_names", "processing_status", "error_summary",
            "error_details", "creator", "origin",
        ]
        read_only_fields = ["processing_status", "error_summary", "error_details"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_resource_file(self, resource):
        return media_url(self.context["request"], resource.resource_file)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_viewer_url(self, resource):
        """``resource/<u>/acquire/`` for resources that have a viewer (``rodan.viewers``), else null."""
        if not viewers.has_viewer(resource):
            return None
        return self.context["request"].build_absolute_uri(reverse("resource-acquire", args=[resource.pk]))

    def _thumbnail(self, resource, size):
        """``resource/<u>/thumbnail/<size>/?v=<version>`` for images with a file, else null (Rodan's ``*_thumb``)."""
        if not resource.is_ready or not tiles.is_image(resource):
            return None
        path = reverse("resource-thumbnail", args=[resource.pk, size])
        return self.context["request"].build_absolute_uri(f"{path}?v={thumbnail_version(resource)}")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_small_thumb(self, resource):
        return self._thumbnail(resource, "small")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_medium_thumb(self, resource):
        return self._thumbnail(resource, "medium")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_large_thumb(self, resource):
        return self._thumbnail(resource, "large")

    def update(self, instance, validated_data):
        label_names = validated_data.pop("label_names", None)
        instance = super().update(instance, validated_data)
        apply_label_names(instance, label_names)
        return instance


class UploadSerializer(serializers.Serializer):
    """The multipart upload of ``POST resources/``: files, a project, an optional claimed type."""

    files = serializers.ListField(child=serializers.FileField(), allow_empty=True, required=False)
    project = Link("project-detail", project_path="", queryset=Project.objects)
    type = serializers.CharField(required=False, allow_blank=True)
    label_names = serializers.CharField(required=False, allow_blank=True)

    def validate_files(self, files):
        if not files:
            raise serializers.ValidationError("You must supply at least one file to upload.")
        return files

    def validate_type(self, value):
        """A mimetype, or a resource type URL resolved to its mimetype."""
        if not value:
            return None
        if "/" in value and ResourceType.objects.filter(mimetype=value).exists():
            return value
        field = serializers.HyperlinkedRelatedField(view_name="resourcetype-detail", queryset=ResourceType.objects)
        field.bind("type", self)
        return field.to_internal_value(value).mimetype

    def validate(self, attrs):
        if not attrs.get("files"):
            raise serializers.ValidationError({"files": ["You must supply at least one file to upload."]})
        return attrs


class ResourceListSerializer(serializers.HyperlinkedModelSerializer):
    """A list of one project's resources of one type.

    Rodan's client creates a list for an ``is_list`` port with only
    ``{resources, resource_type}``, so the project defaults to the resources' one.
    """

    url = serializers.HyperlinkedIdentityField(view_name="resourcelist-detail")
    project = Link("project-detail", project_path="", queryset=Project.objects, required=False)
    resources = Link("resource-detail", project_path="project", queryset=Resource.objects, many=True, required=False)
    resource_type = serializers.SerializerMethodField()
    origin = serializers.HyperlinkedRelatedField(view_name="output-detail", read_only=True)
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ResourceList
        fields = [
            "url", "uuid", "name", "description", "project", "resources", "resource_type", "origin",
            "created", "updated", "creator",
        ]

    def to_representation(self, resource_list):
        data = super().to_representation(resource_list)
        data["resources"] = [
            self.context["request"].build_absolute_uri(f"/api/resource/{r.pk}/")
            for r in resource_list.ordered_resources()
        ]
        return data

    @extend_schema_field(ResourceTypeSerializer(allow_null=True))
    def get_resource_type(self, resource_list):
        resource_type = resource_list.resource_type
        return ResourceTypeSerializer(resource_type, context=self.context).data if resource_type else None

    def validate(self, attrs):
        resources = attrs.get("resources")
        project = attrs.get("project") or getattr(self.instance, "project", None)
        if project is None and resources:
            project = attrs["project"] = resources[0].project
        if project is None:
            raise serializers.ValidationError({"project": ["This field is required."]})
        if resources is not None:
            if any(r.project_id != project.pk for r in resources):
                raise serializers.ValidationError({"resources": ["All resources must belong to the list's project."]})
            if len({r.resource_type_id for r in resources}) > 1:
                raise serializers.ValidationError({"resources": ["All resources must have the same resource type."]})
        return attrs

    def _set_members(self, resource_list, resources):
        if resources is None:
            return
        resource_list.memberships.all().delete()
        ResourceListMembership.objects.bulk_create(
            ResourceListMembership(resource_list=resource_list, resource=r, order=i) for i, r in enumerate(resources)
        )

    def create(self, validated_data):
        resources = validated_data.pop("resources", [])
        resource_list = ResourceList.objects.create(**validated_data)
        self._set_members(resource_list, resources)
        return resource_list

    def update(self, instance, validated_data):
        resources = validated_data.pop("resources", None)
        instance = super().update(instance, validated_data)
        self._set_members(instance, resources)
        return instance
