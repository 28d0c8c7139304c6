"""Shopify projections beyond orders: the store, its catalogue and stock, and our webhook
registrations on it."""

from django.db import models


class Store(models.Model):
    """A shop installed on a commerce platform (Shopify): uninstalling keeps its data."""

    account = models.OneToOneField(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="store",
        help_text="Account.",
    )
    installed = models.BooleanField(default=True, help_text="False after app/uninstalled.")
    uninstalled_at = models.DateTimeField(null=True, blank=True, help_text="When uninstalled.")

    def __str__(self) -> str:
        return str(self.account)


class Product(models.Model):
    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="products",
        help_text="Store.",
    )
    external_id = models.CharField(max_length=100, help_text="The platform's product id.")
    title = models.CharField(max_length=500, blank=True, default="", help_text="Title.")
    status = models.CharField(max_length=50, blank=True, default="", help_text="active, …")
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="An older update never overwrites a newer one."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="product_account_id")
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class Variant(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", help_text="Product."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's variant id.")
    sku = models.CharField(max_length=255, blank=True, default="", help_text="SKU.")
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, help_text="Price.")
    inventory_item_id = models.CharField(
        max_length=100, blank=True, default="", db_index=True, help_text="Inventory item."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "external_id"], name="variant_product_id")
        ]

    def __str__(self) -> str:
        return self.sku or self.external_id


class InventoryLevel(models.Model):
    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="inventory",
        help_text="Store.",
    )
    inventory_item_id = models.CharField(max_length=100, help_text="Inventory item.")
    location_id = models.CharField(max_length=100, help_text="Location.")
    available = models.IntegerField(null=True, help_text="Units available.")
    variant = models.ForeignKey(
        Variant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="The variant stocked, when known (an unknown item is still recorded).",
    )
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="An older update never overwrites a newer one."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "inventory_item_id", "location_id"], name="inventory_level_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inventory_item_id}@{self.location_id}"


class WebhookRegistration(models.Model):
    """One of our receiver's webhook subscriptions on the platform (Shopify Admin API)."""

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="registrations",
        help_text="Account registered.",
    )
    topic = models.CharField(max_length=100, help_text="The platform's topic.")
    address = models.URLField(max_length=2048, help_text="Our callback URL it posts to.")
    remote_id = models.CharField(max_length=100, help_text="The platform's subscription id.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last confirmed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "topic"], name="registration_topic")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.topic}"
