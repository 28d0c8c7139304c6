"""Internal events the inbound channels publish, registered in the shared catalog: the order
and shipment events every selling platform shares (`channels_app.commerce.events`), then each
platform package's own `events` module."""

from channels_app.commerce import events as commerce_events
from channels_app.models import ChannelAccount
from channels_app.platforms import platform_modules

EVENT_TYPES = [
    *commerce_events.EVENT_TYPES,
    *(event_type for module in platform_modules("events") for event_type in module.EVENT_TYPES),
]


def source_namespaces(owner) -> dict[str, str]:
    """Each of `owner`'s configured sources (an account with its own verification) is a
    namespace of types."""
    names = (
        ChannelAccount.objects.filter(owner=owner)
        .exclude(verification="")
        .values_list("platform", flat=True)
        .distinct()
    )
    return {name: f"Events received from the configured source `{name}`." for name in names}
