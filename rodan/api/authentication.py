"""Credentials read-only file and stream requests may carry besides the ``Authorization`` header."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.settings import api_settings


class CookieTokenAuthentication(TokenAuthentication):
    """The token from the ``token`` cookie, where the Rodan client keeps it.

    A browser's EventSource, ``<img>`` tag or download link cannot send an
    Authorization header. Only read-only views (the event stream and
    ``/uploads/``) accept the cookie, so no state-changing request can ride on it.
    """

    def authenticate(self, request):
        key = request.COOKIES.get("token")
        return self.authenticate_credentials(key) if key else None


#: The API's own authentication, then the cookie.
READ_ONLY_AUTHENTICATION = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, CookieTokenAuthentication]
