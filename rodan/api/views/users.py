"""Users (an unpaginated list) and user preferences (§2.2)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from rodan.api import filters
from rodan.api.permissions import IsSelfOrSuperuser
from rodan.api.schema import ERRORS
from rodan.api.serializers.users import (
    NewUserSerializer,
    UserListSerializer,
    UserPreferenceSerializer,
    UserSerializer,
)
from rodan.api.views.base import FILTERS
from rodan.deletion import Refused, delete_user
from rodan.models import UserPreference


class UserViewSet(viewsets.ModelViewSet):
    """Anyone logged in lists users (names only); a record in full is for its owner or a superuser."""

    queryset = get_user_model().objects.order_by("pk")
    permission_classes = [permissions.IsAuthenticated, IsSelfOrSuperuser]
    filter_backends = FILTERS
    filterset_class = filters.UserFilter
    ordering_fields = ["username", "first_name", "last_name"]
    pagination_class = None

    def get_serializer_class(self):
        if self.action == "list":
            return UserListSerializer
        return NewUserSerializer if self.action == "create" else UserSerializer

    @extend_schema(responses={201: inline_serializer("CreatedUser", {"username": serializers.CharField()})})
    def create(self, request, *args, **kwargs):
        serializer = NewUserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        return Response({"username": user.username}, status=201)

    @extend_schema(responses={204: None, 409: ERRORS[409]})
    def destroy(self, request, *args, **kwargs):
        """The last superuser, and the creator of projects, stay (409 with the reason)."""
        try:
            delete_user(self.get_object())
        except Refused as exc:
            return Response({"detail": str(exc)}, status=409)
        return Response(status=204)


class UserPreferenceViewSet(viewsets.ModelViewSet):
    serializer_class = UserPreferenceSerializer
    permission_classes = [permissions.IsAuthenticated, IsSelfOrSuperuser]
    filter_backends = FILTERS
    ordering_fields = ["send_email"]

    def get_queryset(self):
        preferences = UserPreference.objects.order_by("uuid")
        return preferences if self.request.user.is_superuser else preferences.filter(user_id=self.request.user.pk)
