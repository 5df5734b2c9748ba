"""Who a request comes from, for the limits: the viewer's address, as CloudFront saw it.

An IPv6 client is its /64: one home, phone or server gets a whole /64 and picks addresses in it
at will, so a narrower key would let one client pass for billions. IPv4-mapped IPv6 is the IPv4
address it maps. Only a keyed hash of the address is kept (in a hold, in the cache's keys).
"""

import hashlib
import ipaddress

from django.conf import settings

from ticketing.tracking.hits import client_ip


def client_address(request) -> str:
    """The client's network: an IPv4 address, or an IPv6 /64 (`2001:db8:1:2::/64`)."""
    raw = client_ip(request.META)
    try:
        address = ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        return raw  # whatever the server put there: still one key per value
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network((address, 64), strict=False))
    return str(address)


def client_key(request) -> str:
    """A keyed hash of the client's network: stable per client, meaningless without SECRET_KEY."""
    return hashlib.blake2b(
        client_address(request).encode(),
        key=settings.SECRET_KEY.encode()[:64],
        person=b"limits-client",
        digest_size=12,
    ).hexdigest()
