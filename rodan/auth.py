"""Logging in with the email address, which is Rodan's login (the username is separate)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Accepts the email (or, failing that, the username) with the password."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        login = email or username
        if not login or password is None:
            return None
        users = get_user_model().objects
        user = users.filter(email__iexact=login).order_by("pk").first() or users.filter(username=login).first()
        if user and user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
