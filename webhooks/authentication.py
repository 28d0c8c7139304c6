from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from webhooks.services import api_token_authenticate


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` against hashed ApiToken rows."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        try:
            raw_token = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed("Invalid token.") from exc
        token = api_token_authenticate(raw_token=raw_token)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The schema's `bearerAuth` security scheme (drf-spectacular finds it by target_class)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`whk_…`) from `manage.py create_api_token` or "
            "POST /api/tokens.",
        }
