"""The SSRF guard: what it refuses, and that connections go only to checked addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import httpcore
import httpx
import pytest

from providers.webhooks.errors import WebhookUrlRefused
from providers.webhooks.ssrf import (
    GuardedNetworkBackend,
    UrlGuard,
    guarded_transport,
    refusal_reason,
)
from tests.providers.webhooks.receiver import Answer, Receiver, running


class FakeDns:
    """A resolver that answers from a table and counts its lookups."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def __call__(self, host: str, _port: int) -> Sequence[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(f"no such host {host}")
        return self.table[host]


DNS = {
    "loopback.example": ["127.0.0.1"],
    "private.example": ["10.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "v6-loopback.example": ["::1"],
    "cgnat.example": ["100.64.1.2"],
    "mixed.example": ["93.184.216.34", "192.168.1.10"],
    "public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
}


def guard(*, https: bool = False, loopback: bool = False, dns: FakeDns | None = None) -> UrlGuard:
    return UrlGuard(require_https=https, allow_loopback=loopback, resolver=dns or FakeDns(DNS))


@pytest.mark.parametrize(
    "url",
    [
        "http://loopback.example/hook",
        "http://private.example/hook",
        "http://metadata.example/latest/meta-data/",
        "http://v6-loopback.example/hook",
        "http://cgnat.example/hook",
        "http://mixed.example/hook",  # one bad address is enough
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[2002:a9fe:a9fe::1]/hook",  # 6to4 wrapping 169.254.169.254
        "http://[64:ff9b::a00:1]/hook",  # NAT64 wrapping 10.0.0.1
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
    ],
)
async def test_refuses_urls_reaching_internal_addresses(url: str) -> None:
    with pytest.raises(WebhookUrlRefused, match="address"):
        await guard().check_url(url)


async def test_accepts_public_addresses() -> None:
    addresses = await guard().check_url("https://public.example/hooks?x=1")
    assert [str(a) for a in addresses] == DNS["public.example"]
    assert await guard().check_url("http://93.184.216.34:8443/") == [
        ipaddress.ip_address("93.184.216.34")
    ]


async def test_loopback_only_when_allowed() -> None:
    allowed = guard(loopback=True)
    assert await allowed.check_url("http://loopback.example/") == [
        ipaddress.ip_address("127.0.0.1")
    ]
    assert await allowed.check_url("http://[::1]:8000/")
    with pytest.raises(WebhookUrlRefused, match="private"):
        await allowed.check_url("http://private.example/")
    with pytest.raises(WebhookUrlRefused, match="link-local"):
        await allowed.check_url("http://169.254.169.254/")


async def test_real_resolver_refuses_localhost() -> None:
    with pytest.raises(WebhookUrlRefused, match="loopback"):
        await UrlGuard(require_https=False, allow_loopback=False).check_url("http://localhost/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://public.example/", "must start with https"),
        ("ftp://public.example/", "must start with https"),
        ("https://user:pw@public.example/", "Credentials"),
        ("https:///nohost", "no host"),
        ("https://public.example/" + "a" * 2000, "longer than"),
        ("https://unknown.example/", "cannot be resolved"),
        ("https://[::1/", "not valid"),
        ("https://public.example:99999/", "Port 99999"),
    ],
)
async def test_refuses_bad_forms_in_production(url: str, message: str) -> None:
    with pytest.raises(WebhookUrlRefused, match=message):
        await guard(https=True).check_url(url)


async def test_http_is_allowed_outside_production() -> None:
    assert await guard(https=False).check_url("http://public.example/")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("100.64.0.1", "carrier-grade NAT"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("fc00::1", "unique local"),
        ("fec0::1", "site-local"),
        ("2001::1", "Teredo tunnel"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("8.8.8.8", None),
    ],
)
def test_refusal_reasons(address: str, reason: str | None) -> None:
    found = refusal_reason(ipaddress.ip_address(address))
    assert found == reason if reason is None else reason in (found or "")


class SpyBackend(httpcore.AsyncNetworkBackend):
    """Records where connections really go, then connects for real."""

    def __init__(self) -> None:
        self.connected: list[str] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,  # noqa: ARG002
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        return await self._real.connect_tcp(host, port, timeout=timeout)

    async def connect_unix_socket(
        self, *_args: object, **_kwargs: object
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError("not used")

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


async def test_connects_to_the_checked_address_keeping_the_host_name() -> None:
    dns = FakeDns({"receiver.example": ["127.0.0.1"]})
    spy = SpyBackend()
    pool = httpcore.AsyncConnectionPool(
        network_backend=GuardedNetworkBackend(guard(loopback=True, dns=dns), spy)
    )
    with running(Receiver()) as receiver:
        response = await pool.request(
            "POST", f"http://receiver.example:{receiver.port}/hook", content=b"{}"
        )
        await pool.aclose()
    assert response.status == 204
    assert spy.connected == ["127.0.0.1"]  # the address, never the name again
    assert dns.lookups == ["receiver.example"]  # resolved once
    assert receiver.received[0].headers["host"] == f"receiver.example:{receiver.port}"


async def test_dns_rebinding_is_caught_at_connect_time() -> None:
    # Public when the URL is saved, internal when the worker connects: refused, nothing sent.
    dns = FakeDns({"rebind.example": ["93.184.216.34"]})
    checker = guard(dns=dns)
    assert await checker.check_url("http://rebind.example/hook")
    dns.table["rebind.example"] = ["169.254.169.254"]
    async with httpx.AsyncClient(transport=guarded_transport(checker)) as client:
        with pytest.raises(WebhookUrlRefused, match=r"169\.254\.169\.254"):
            await client.post("http://rebind.example/hook", content=b"{}")


async def test_a_followed_redirect_to_an_internal_address_is_refused() -> None:
    # The delivery client never follows redirects; even a client that did could not reach one.
    def script(path: str, _n: int) -> Answer:
        return Answer(302, {"location": "http://169.254.169.254/latest/meta-data/"})

    with running(Receiver(script)) as receiver:
        transport = guarded_transport(guard(loopback=True))
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
            with pytest.raises(WebhookUrlRefused, match="link-local"):
                await client.post(receiver.url(), content=b"{}")
    assert len(receiver.received) == 1


async def test_unix_sockets_are_refused() -> None:
    backend = GuardedNetworkBackend(guard())
    with pytest.raises(WebhookUrlRefused, match="Unix"):
        await backend.connect_unix_socket("/var/run/docker.sock")
