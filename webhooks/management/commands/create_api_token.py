from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webhooks.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for.")

    def handle(self, *args, username, name, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        _, raw_token = api_token_create(user=user, name=name)
        self.stdout.write(raw_token)
