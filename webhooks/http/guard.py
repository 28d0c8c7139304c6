"""Which addresses an outbound call may reach."""

import ipaddress
import socket
from urllib.parse import urlsplit

from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES


class ForbiddenAddress(OSError):
    """The host resolved to an address outbound calls may not reach.

    An OSError, so that aiohttp's connector reports it as the cause of a failed connection
    rather than letting it escape as an unexpected error.
    """


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in EXTRA_BLOCKED_NET_RANGES)
    )


def ip_literal(host: str) -> str | None:
    """`host` as an IP address if it is one (brackets of an IPv6 literal removed), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` cannot be a subscription endpoint, or None.

    Without `allow_private` (production) the scheme must be https and no address the host
    resolves to now may be private; the client checks the address again at every connection.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http(s) URL with a host."
    try:
        port = parts.port
    except ValueError:
        return "The URL's port is not a valid port number."
    if allow_private:
        return None
    if parts.scheme != "https":
        return "Only https URLs are allowed."
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port or 443)}
    except (socket.gaierror, UnicodeError):
        return None  # not resolvable now; the connect-time check still applies
    if not all(address_is_public(address) for address in addresses):
        return "The URL resolves to a private, loopback or reserved address."
    return None
