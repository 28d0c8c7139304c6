"""Orders and what hangs off them, as the platforms that sell last described them: shared by
Shopify, Flipkart, Selloship and Amazon, so it sits below every platform package."""

from django.db import models


class Order(models.Model):
    """An order as the platform last told us about it (projection)."""

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="orders",
        help_text="Store.",
    )
    external_id = models.CharField(max_length=100, help_text="The platform's order id.")
    name = models.CharField(max_length=100, blank=True, default="", help_text="e.g. #1001.")
    email = models.CharField(max_length=255, blank=True, default="", help_text="Customer email.")
    financial_status = models.CharField(max_length=50, blank=True, default="", help_text="Paid…")
    fulfillment_status = models.CharField(
        max_length=50, blank=True, default="", help_text="Fulfilled, partial, or empty."
    )
    total_price = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Order total."
    )
    currency = models.CharField(max_length=3, blank=True, default="", help_text="ISO currency.")
    cancelled_at = models.DateTimeField(null=True, blank=True, help_text="When cancelled.")
    remote_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The platform's updated_at: an older update never overwrites a newer one.",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="order_account_id")
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class LineItem(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="line_items", help_text="Order."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's line item id.")
    sku = models.CharField(max_length=255, blank=True, default="", help_text="SKU.")
    title = models.CharField(max_length=500, blank=True, default="", help_text="Product title.")
    quantity = models.IntegerField(default=0, help_text="Quantity.")
    price = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Unit price."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="line_item_order_id")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class Fulfillment(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="fulfillments", help_text="Order."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's fulfillment id.")
    status = models.CharField(max_length=50, blank=True, default="", help_text="Its status.")
    tracking_number = models.CharField(max_length=255, blank=True, default="", help_text="AWB.")
    tracking_company = models.CharField(
        max_length=255, blank=True, default="", help_text="Carrier."
    )
    tracking_url = models.URLField(max_length=2048, blank=True, default="", help_text="Tracking.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="fulfillment_order_id")
        ]

    def __str__(self) -> str:
        return f"fulfillment {self.external_id}"


class Refund(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="refunds", help_text="Order."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's refund id.")
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Refunded total.")
    note = models.TextField(blank=True, default="", help_text="Merchant note.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "external_id"], name="refund_id")]

    def __str__(self) -> str:
        return f"refund {self.external_id}"


class Shipment(models.Model):
    """A shipment as the marketplace or carrier last described it (Flipkart, Selloship)."""

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="shipments",
        help_text="Account.",
    )
    external_id = models.CharField(
        max_length=100, help_text="The platform's shipment id (Flipkart shipmentId, AWB)."
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shipments",
        help_text="The order shipped, when the platform names it.",
    )
    awb = models.CharField(max_length=100, blank=True, default="", help_text="Air waybill.")
    courier = models.CharField(max_length=100, blank=True, default="", help_text="Carrier.")
    status = models.CharField(max_length=50, blank=True, default="", help_text="Latest status.")
    tracking_history = models.JSONField(
        default=list, help_text="Status updates as received, oldest first."
    )
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="An older update never overwrites a newer one."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="shipment_account_id")
        ]

    def __str__(self) -> str:
        return f"shipment {self.external_id}"
