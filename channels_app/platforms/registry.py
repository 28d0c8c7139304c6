"""Every inbound platform, by name: adding one is a package and a line here.

A name that is not here is a configured source when an account says how to verify it
(channels_app.platforms.sources); anything else is unknown (404).
"""

from channels_app.platforms.amazon.platform import Amazon
from channels_app.platforms.base import Platform
from channels_app.platforms.flipkart.platform import Flipkart
from channels_app.platforms.qualia.platform import Qualia
from channels_app.platforms.selloship.platform import Selloship
from channels_app.platforms.shopify.platform import Shopify
from channels_app.platforms.sources.platform import ConfiguredSource, source_accounts
from channels_app.platforms.stripe.platform import Stripe

PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in [Qualia(), Shopify(), Stripe(), Flipkart(), Selloship(), Amazon()]
}


def platform_for(name: str) -> Platform:
    """The receiver for `name`; KeyError when it is neither a platform nor a configured source."""
    platform = PLATFORMS.get(name)
    if platform is not None:
        return platform
    if source_accounts(name):
        return ConfiguredSource(name)
    raise KeyError(name)
