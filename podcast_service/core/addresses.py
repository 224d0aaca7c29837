"""Client addresses as one client: an IPv4 address whole, an IPv6 address by its /64.

A home line, a phone or a rented host gets a whole /64 (RFC 6177), as an IPv4
address is shared behind NAT: counting listeners and throttling sign-ins both
take the /64 for the client.
"""

from __future__ import annotations

import ipaddress


def network(address: str) -> str:
    """The part of an address that identifies a client: all of IPv4, the /64 of IPv6; '' if unreadable."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)
