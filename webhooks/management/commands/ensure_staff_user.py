from django.core.management.base import BaseCommand

from webhooks.services import staff_user_ensure


class Command(BaseCommand):
    help = "Create a superuser if none exists, printing its generated login once."

    def handle(self, *args, **options):
        user, generated_password = staff_user_ensure()
        if generated_password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Staff login for /admin/: {user.get_username()} / {generated_password}"
                    " (shown once; set STAFF_PASSWORD to choose it)"
                )
            )
