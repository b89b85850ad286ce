"""SSRF guard for every URL the service calls on a provider's behalf.

A provider chooses the URL, so without a guard it could make our workers call the cloud metadata
service (169.254.169.254), the database, or anything else on our private network. The guard:

- allows ``https`` only (``http`` too outside production), and no credentials in the URL;
- resolves the host once and refuses the whole URL if *any* address is loopback, private,
  link-local, carrier-grade NAT, multicast, reserved, unspecified, an IPv6 unique-local or
  site-local address, or an IPv6 address that embeds a refused IPv4 one (IPv4-mapped, 6to4,
  NAT64, Teredo); an explicit setting allows loopback for local development and tests;
- connects to exactly the addresses it checked: :class:`GuardedNetworkBackend` is the httpcore
  network backend of the delivery client, so the name is resolved and checked inside the connect
  call and never resolved again (no DNS rebinding between check and use), while TLS still uses
  the host name for SNI and certificate verification. A kept-alive connection is reused only for
  the same origin, so it too goes to an address that was checked when it was opened.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import httpcore
import httpx

from providers.webhooks.errors import WebhookUrlRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

MAX_URL_LENGTH = 2000

# Ranges ``ipaddress`` does not flag on every supported Python version.
_EXTRA_REFUSED: dict[str, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {
    "carrier-grade NAT": [ipaddress.ip_network("100.64.0.0/10")],
    "IETF protocol assignment": [ipaddress.ip_network("192.0.0.0/24")],
    "benchmarking": [ipaddress.ip_network("198.18.0.0/15")],
    "unique local": [ipaddress.ip_network("fc00::/7")],
    "local NAT64": [ipaddress.ip_network("64:ff9b:1::/48")],
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``address`` must not be called, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None:
            return "Teredo tunnel"
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal_reason(embedded, allow_loopback=allow_loopback)
            return f"{reason} (embedded {embedded})" if reason else None
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    for reason, networks in _EXTRA_REFUSED.items():
        if any(address in network for network in networks):
            return reason
    checks = [
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally routable", not address.is_global),
    ]
    return next((reason for reason, refused in checks if refused), None)


@lru_cache(maxsize=4096)  # checked before every attempt; endpoints are few
def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise WebhookUrlRefused(f"The URL is not valid: {exc}.") from exc


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the operating system's resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


class UrlGuard:
    """Checks URLs and resolves their hosts to addresses that may be called."""

    def __init__(
        self, *, require_https: bool, allow_loopback: bool, resolver: Resolver | None = None
    ) -> None:
        self.require_https = require_https
        self.allow_loopback = allow_loopback
        self._resolver = resolver or system_resolver

    def check_syntax(self, url: str) -> Target:
        """The scheme, host and port of ``url`` if its form is acceptable, else refuse."""
        if len(url) > MAX_URL_LENGTH:
            raise WebhookUrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
        parsed = _parse(url)
        schemes = ("https",) if self.require_https else ("https", "http")
        if parsed.scheme not in schemes:
            raise WebhookUrlRefused(f"The URL must start with {' or '.join(schemes)}://.")
        if not parsed.host:
            raise WebhookUrlRefused("The URL has no host.")
        if parsed.userinfo:
            raise WebhookUrlRefused("Credentials in the URL are not allowed.")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if not 0 < port < 65536:
            raise WebhookUrlRefused(f"Port {port} does not exist.")
        return Target(parsed.scheme, parsed.host, port)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of ``host``, if all of them may be called; refuse otherwise."""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                found = await self._resolver(host, port)
            except OSError as exc:
                raise WebhookUrlRefused(f"{host} cannot be resolved ({exc}).") from exc
            addresses = list(dict.fromkeys(ipaddress.ip_address(a) for a in found))
        if not addresses:
            raise WebhookUrlRefused(f"{host} resolves to no address.")
        for address in addresses:
            reason = refusal_reason(address, allow_loopback=self.allow_loopback)
            if reason:
                raise WebhookUrlRefused(f"{host} resolves to {address}, a {reason} address.")
        return addresses

    async def check_url(self, url: str) -> list[IPAddress]:
        """Check ``url`` completely (form and addresses), as when it is saved."""
        target = self.check_syntax(url)
        return await self.resolve(target.host, target.port)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore backend that connects only to addresses the guard has just checked."""

    def __init__(self, guard: UrlGuard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.resolve(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # noqa: S101 - resolve() never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,  # noqa: ARG002 - the interface's signature; nothing is connected
        timeout: float | None = None,  # noqa: ARG002
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        raise WebhookUrlRefused("Webhooks are never delivered over Unix sockets.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """The verifying TLS context, built once: loading the CA bundle takes tens of milliseconds."""
    return httpx.create_ssl_context()


def guarded_transport(
    guard: UrlGuard,
    *,
    max_connections: int = 100,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through :class:`GuardedNetworkBackend`."""
    context = ssl_context or default_ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=context, retries=0)
    # httpx 0.28 cannot be given a network backend (encode/httpx#3749), so the pool it built is
    # replaced by the same pool with the guarded backend. Tests prove connections go through it.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=5.0,
        network_backend=GuardedNetworkBackend(guard),
    )
    return transport
