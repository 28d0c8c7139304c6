from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A Bearer token for the REST API. Only its SHA-256 is stored: it is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The user this token acts as.",
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI' or 'CRM'.")
    prefix = models.CharField(
        max_length=16, editable=False, help_text="First characters of the token, to recognise it."
    )
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the token (hex)."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the token was created.")
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last authenticated request (to a minute)."
    )

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
