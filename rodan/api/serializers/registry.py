"""Read-only registries (§2.4): jobs, their port types, resource types."""

from rest_framework import serializers

from rodan.models import InputPortType, Job, OutputPortType, ResourceType


class ResourceTypeSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="resourcetype-detail")

    class Meta:
        model = ResourceType
        fields = ["url", "uuid", "mimetype", "description", "extension"]


def _port_type_fields():
    return ["url", "uuid", "job", "name", "minimum", "maximum", "is_list", "resource_types"]


class InputPortTypeSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="inputporttype-detail")
    job = serializers.HyperlinkedRelatedField(view_name="job-detail", read_only=True)
    resource_types = serializers.HyperlinkedRelatedField(view_name="resourcetype-detail", many=True, read_only=True)

    class Meta:
        model = InputPortType
        fields = _port_type_fields()


class OutputPortTypeSerializer(InputPortTypeSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="outputporttype-detail")

    class Meta:
        model = OutputPortType
        fields = _port_type_fields()


class JobSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="job-detail")
    input_port_types = InputPortTypeSerializer(many=True, read_only=True)
    output_port_types = OutputPortTypeSerializer(many=True, read_only=True)

    class Meta:
        model = Job
        fields = [
            "url", "uuid", "name", "description", "category", "enabled", "interactive", "settings",
            "input_port_types", "output_port_types",
        ]
