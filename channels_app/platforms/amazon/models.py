"""Amazon projections: finished SP-API feeds and reports, and our SNS subscriptions."""

from django.db import models


class ProcessingReport(models.Model):
    """A finished Amazon SP-API feed or report, with the document to fetch."""

    class Kind(models.TextChoices):
        FEED = "feed", "Feed"
        REPORT = "report", "Report"

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="reports",
        help_text="Account.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, help_text="Feed or report.")
    external_id = models.CharField(max_length=100, help_text="feedId or reportId.")
    type = models.CharField(max_length=100, blank=True, default="", help_text="Feed/report type.")
    processing_status = models.CharField(
        max_length=50, blank=True, default="", help_text="DONE, CANCELLED, FATAL."
    )
    document_id = models.CharField(
        max_length=200, blank=True, default="", help_text="Result or report document id."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "external_id"], name="processing_report_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class SnsSubscription(models.Model):
    """An Amazon SNS topic subscription we confirmed (or tried to) for an account."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="sns_subscriptions",
        help_text="Account whose topic it is.",
    )
    topic_arn = models.CharField(max_length=255, help_text="The SNS topic.")
    subscribe_url = models.URLField(max_length=2048, help_text="The confirmation URL we called.")
    status = models.CharField(max_length=10, choices=Status.choices, help_text="Outcome.")
    error = models.TextField(blank=True, default="", help_text="Why confirming failed.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it arrived.")

    class Meta:
        verbose_name = "SNS subscription"

    def __str__(self) -> str:
        return self.topic_arn
