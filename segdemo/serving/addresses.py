"""The addresses at which phones on the same network can reach this machine.

A teacher opens the app on the laptop itself (127.0.0.1); the students' phones need the
laptop's address on the room's network instead, which the Join panel shows.
"""
import ipaddress
import socket

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "0.0.0.0", "::", ""}


def is_loopback(host):
    """True for names and addresses that mean "this machine" to the browser that used them."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_addresses():
    """This machine's IPv4 addresses other phones may reach: no loopback, no link-local; sorted."""
    found = set()
    try:  # the address of the interface that would reach another network; no packet is sent
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(sockaddr[0])
    except OSError:
        pass
    usable = [a for a in found if not (ipaddress.ip_address(a).is_loopback or ipaddress.ip_address(a).is_link_local
                                       or ipaddress.ip_address(a).is_unspecified)]
    return sorted(usable, key=ipaddress.ip_address)


def split_host(host_header):
    """("host", "port" or "") from an HTTP Host header such as "192.168.1.20:7860" or "[::1]:7860"."""
    if host_header.startswith("["):
        host, _, rest = host_header[1:].partition("]")
        return host, rest.lstrip(":")
    host, _, port = host_header.partition(":")
    return host, port


def join_urls(scheme, host_header, addresses=None):
    """The addresses phones should open, given how this page was reached.

    A page reached by a network name or address (a phone, a Space) is reachable as it is; a
    page opened on the machine itself (localhost) is reached by phones at its network addresses.
    """
    host, port = split_host(host_header)
    suffix = f":{port}" if port else ""
    if not is_loopback(host):
        return [f"{scheme}://{host_header}/"]
    return [f"{scheme}://{address}{suffix}/" for address in (local_addresses() if addresses is None else addresses)]
