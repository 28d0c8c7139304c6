from django.core.management.base import BaseCommand

from webhooks.services import encrypted_fields_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        for label, count in encrypted_fields_reencrypt().items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
