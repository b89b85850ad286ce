from __future__ import annotations

import httpx

from providers.webhooks.lanes import Lanes, origin_of


def make_client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=connections))


async def test_lanes_are_made_on_demand_up_to_the_count() -> None:
    async with Lanes(make_client, count=2) as lanes:
        first = lanes.acquire("http://a.example/hook")
        second = lanes.acquire("http://a.example/hook")
        assert first is not second
        lanes.release(first)
        assert lanes.acquire("http://b.example/") is first  # no third lane: the count is 2
    assert first.client.is_closed and second.client.is_closed


async def test_a_lane_that_knows_the_origin_is_preferred() -> None:
    async with Lanes(make_client, count=3) as lanes:
        lane_a = lanes.acquire("https://a.example/x")
        lane_b = lanes.acquire("https://b.example/y")
        lanes.release(lane_b)
        lanes.release(lane_a)
        # Each lookup would otherwise take the last freed lane or make a new one.
        assert lanes.acquire("https://b.example:443/") is lane_b
        lanes.release(lane_b)
        assert lanes.acquire("https://a.example/other-path") is lane_a


def test_origin_includes_scheme_host_and_port() -> None:
    assert origin_of("https://A.example/x?y") == "https://a.example:443"
    assert origin_of("https://a.example:443/") == "https://a.example:443"
    assert origin_of("http://a.example:8080/") == "http://a.example:8080"
    assert origin_of("http://[::1]/") == "http://::1:80"
