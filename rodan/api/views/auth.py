"""Login by email with a permanent token, the current user, and the account flows (§1 Auth, §2.2).

Activation and password-reset mails carry Django's one-time tokens in the
client's ``#activate/{uid}/{token}`` and ``#password-reset/{uid}/{token}``
fragments; they go through Django's email backend (console by default).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan.api.schema import ERRORS
from rodan.api.serializers.users import NewUserSerializer, UserSerializer
from rodan.api.views.base import fields_of

User = get_user_model()


def _login_error(detail):
    return Response({"is_logged_in": False, "detail": detail}, status=401)


class JSONWhateverAccept(DefaultContentNegotiation):
    """The first renderer, whatever ``Accept`` (or a ``.html`` suffix) asks for."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TokenLogin(APIView):
    """``POST auth/token/ {email, password}``: the user and their token.

    Always JSON, as Rodan's view answers: scripts (and README's curl example)
    send no ``Accept`` header, which elsewhere gets the browsable HTML.
    """

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONWhateverAccept

    @extend_schema(request=inline_serializer("Login", {"email": serializers.CharField(), "password": serializers.CharField()}), responses={200: UserSerializer, 403: ERRORS[403]})
    def post(self, request, format=None):
        fields = fields_of(request)
        email, password = fields.get("email"), fields.get("password")
        if not email:
            return _login_error("You must supply an email.")
        if not password:
            return _login_error("You must supply a password.")
        user = User.objects.filter(email__iexact=email).order_by("pk").first()
        if user is None or not user.check_password(password):
            return _login_error("Invalid email or password.")
        if not user.is_active:
            return Response({"is_logged_in": False, "detail": "Account is not activated."}, status=403)
        token, _ = Token.objects.get_or_create(user=user)
        body = UserSerializer(user, context={"request": request}).data
        return Response({**body, "token": token.key})


class ResetToken(APIView):
    """``POST auth/reset-token/``: forget the token (logout); the next login makes a new one."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class Me(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request, format=None):
        return Response(UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def put(self, request, format=None, partial=False):
        serializer = UserSerializer(request.user, data=request.data, partial=partial, context={"request": request})
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    @extend_schema(request=UserSerializer, responses=UserSerializer)
    def patch(self, request, format=None):
        return self.put(request, format, partial=True)


def _mail_link(user, fragment, subject):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    send_mail(subject, f"#{fragment}/{uid}/{token}", settings.DEFAULT_FROM_EMAIL, [user.email])


def _user_from_uid(data):
    """The user a mailed ``{uid, token}`` pair names; ValidationError when it is wrong or used."""
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(str(data.get("uid", "")))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        raise serializers.ValidationError({"uid": ["Invalid user id or user doesn't exist."]}) from None
    if not default_token_generator.check_token(user, str(data.get("token", ""))):
        raise serializers.ValidationError({"token": ["Invalid token for given user."]})
    return user


class Register(APIView):
    """``POST auth/register/``: an inactive account and an activation mail."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=NewUserSerializer, responses={201: NewUserSerializer})
    def post(self, request, format=None):
        serializer = NewUserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save(is_active=False)
        _mail_link(user, "activate", "Activate your account")
        return Response({"username": user.username, "email": user.email, "id": user.pk}, status=201)


class Activate(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=inline_serializer("Activation", {"uid": serializers.CharField(), "token": serializers.CharField()}), responses={204: None, 403: ERRORS[403]})
    def post(self, request, format=None):
        user = _user_from_uid(fields_of(request))
        if user.is_active:
            return Response({"detail": "Stale token for given user."}, status=403)
        user.is_active = True
        user.save(update_fields=["is_active"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResendActivation(APIView):
    """Always 204, so the route does not tell which emails have accounts."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=inline_serializer("ActivationEmail", {"email": serializers.CharField()}), responses={204: None})
    def post(self, request, format=None):
        user = User.objects.filter(email__iexact=str(fields_of(request).get("email", "")), is_active=False).first()
        if user:
            _mail_link(user, "activate", "Activate your account")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangePassword(APIView):
    @extend_schema(request=inline_serializer("PasswordChange", {"new_password": serializers.CharField(), "current_password": serializers.CharField()}), responses={204: None})
    def post(self, request, format=None):
        fields = fields_of(request)
        new, current = fields.get("new_password"), fields.get("current_password")
        if not current or not request.user.check_password(str(current)):
            return Response({"current_password": ["Invalid password."]}, status=400)
        if not new:
            return Response({"new_password": ["This field is required."]}, status=400)
        request.user.set_password(str(new))
        request.user.save(update_fields=["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResetPassword(APIView):
    """Always 204, so the route does not tell which emails have accounts."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=inline_serializer("PasswordResetEmail", {"email": serializers.CharField()}), responses={204: None})
    def post(self, request, format=None):
        user = User.objects.filter(email__iexact=str(fields_of(request).get("email", "")), is_active=True).first()
        if user:
            _mail_link(user, "password-reset", "Reset your password")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResetPasswordConfirm(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=inline_serializer("PasswordReset", {"uid": serializers.CharField(), "token": serializers.CharField(), "new_password": serializers.CharField()}), responses={204: None})
    def post(self, request, format=None):
        fields = fields_of(request)
        user = _user_from_uid(fields)
        new = fields.get("new_password")
        if not new:
            return Response({"new_password": ["This field is required."]}, status=400)
        user.set_password(str(new))
        user.save(update_fields=["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)
