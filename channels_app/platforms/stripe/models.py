"""Stripe projections: payment-side objects as Stripe last described them."""

from django.db import models


class Payment(models.Model):
    """A payment-side object (payment intent, charge, checkout session, invoice, subscription)
    as the payment platform last described it (projection)."""

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="payments",
        help_text="Account.",
    )
    external_id = models.CharField(max_length=100, help_text="The platform's object id.")
    kind = models.CharField(max_length=50, help_text="payment_intent, charge, invoice, …")
    status = models.CharField(max_length=50, blank=True, default="", help_text="Its status.")
    amount = models.BigIntegerField(
        null=True, blank=True, help_text="In the currency's minor unit."
    )
    amount_refunded = models.BigIntegerField(default=0, help_text="Refunded, minor unit.")
    currency = models.CharField(max_length=3, blank=True, default="", help_text="ISO currency.")
    customer = models.CharField(max_length=100, blank=True, default="", help_text="Customer id.")
    remote_created = models.BigIntegerField(
        default=0, help_text="The event's `created` (Unix s): an older event never overwrites."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="payment_account_id")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"
