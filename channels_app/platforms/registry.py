"""Every inbound platform, by name: adding one is a package and a line here."""

from channels_app.platforms.base import Platform
from channels_app.platforms.qualia.platform import Qualia
from channels_app.platforms.shopify.platform import Shopify
from channels_app.platforms.stripe.platform import Stripe

PLATFORMS: dict[str, Platform] = {
    platform.name: platform for platform in [Qualia(), Shopify(), Stripe()]
}


def platform_for(name: str) -> Platform:
    return PLATFORMS[name]
