"""Users, their preferences, and the bodies of the auth routes (§2.2)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from rodan.api.fields import Link
from rodan.models import UserPreference

User = get_user_model()


class UserSerializer(serializers.HyperlinkedModelSerializer):
    """The full user record; ``is_staff``/``is_superuser``/``is_active`` only a superuser may change."""

    url = serializers.HyperlinkedIdentityField(view_name="user-detail")
    projects = Link("project-detail", source="created_projects", many=True, read_only=True)
    workflows = serializers.SerializerMethodField()
    workflow_runs = serializers.SerializerMethodField()
    user_preference = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "url", "username", "first_name", "last_name", "email", "is_staff", "is_active", "is_superuser",
            "projects", "workflows", "workflow_runs", "user_preference",
        ]
        read_only_fields = ["is_staff", "is_active", "is_superuser"]

    def _links(self, view_name, objects):
        request = self.context["request"]
        return [request.build_absolute_uri(f"/api/{view_name}/{obj.pk}/") for obj in objects]

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_workflows(self, user):
        from rodan.models import Workflow

        return self._links("workflow", Workflow.objects.filter(creator=user).only("pk"))

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_workflow_runs(self, user):
        from rodan.models import WorkflowRun

        return self._links("workflowrun", WorkflowRun.objects.filter(creator=user).only("pk"))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_user_preference(self, user):
        preference = UserPreference.objects.filter(user=user).first()
        return self._links("userpreference", [preference])[0] if preference else None


class UserListSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="user-detail")

    class Meta:
        model = User
        fields = ["url", "username", "first_name", "last_name"]


class NewUserSerializer(serializers.ModelSerializer):
    """``POST users/`` and ``auth/register/``: a user whose login is the email."""

    email = serializers.EmailField(validators=[UniqueValidator(User.objects.all(), lookup="iexact")])
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["id", "username", "email", "password"]
        read_only_fields = ["id"]

    def create(self, validated_data):
        return User.objects.create_user(**validated_data)


class UserPreferenceSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="userpreference-detail")
    user = serializers.HyperlinkedRelatedField(view_name="user-detail", queryset=User.objects.all())

    class Meta:
        model = UserPreference
        fields = ["url", "user", "uuid", "send_email"]

    def validate_user(self, user):
        request = self.context["request"]
        if user != request.user and not request.user.is_superuser:
            raise serializers.ValidationError("You can only set your own preferences.")
        if self.instance is None and UserPreference.objects.filter(user=user).exists():
            raise serializers.ValidationError("This user already has a preference.")
        return user

    def update(self, instance, validated_data):
        validated_data.pop("user", None)  # a preference stays with its user
        return super().update(instance, validated_data)
