"""Supply chain: no installed dependency is older than the release that fixed its known advisory.

Each floor names the advisory it closes. When a new advisory is published, raise the floor here
and in ``pyproject.toml`` (the same numbers), reinstall, and this test says whether the
environment follows.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

# distribution -> (lowest safe version, the advisory that version fixed)
SAFE_FLOORS: dict[str, tuple[str, str]] = {
    # Algorithm confusion with OpenSSH ECDSA keys; JWE decompression bomb.
    "python-jose": ("3.4.0", "CVE-2024-33663, CVE-2024-33664"),
    # Vulnerable OpenSSL bundled in the wheels (RFC 7250 raw public keys).
    "cryptography": ("44.0.1", "CVE-2024-12797 / GHSA-79v4-65xg-pq4g"),
    # O(n^2) Range header merging in FileResponse (StaticFiles serves the portal's assets).
    "starlette": ("0.49.1", "CVE-2025-62727 / GHSA-7f5h-v6xp-fcq8"),
    # Form parsing ReDoS through python-multipart.
    "fastapi": ("0.109.1", "CVE-2024-24762 / GHSA-qf9m-vfgh-m389"),
    # Sandbox breakout through the |attr filter.
    "jinja2": ("3.1.6", "CVE-2025-27516 / GHSA-cpwx-vrp4-4pq7"),
    # Improper URL parsing could bypass host allow lists.
    "httpx": ("0.23.0", "CVE-2021-41945 / GHSA-h8pj-cxx2-jfg2"),
    # Request smuggling through lenient chunked-encoding parsing.
    "h11": ("0.16.0", "CVE-2025-43859 / GHSA-vqfr-h8mv-ghfj"),
    # Negative Content-Length buffers the whole body; quadratic querystring parsing.
    "python-multipart": ("0.0.31", "GHSA-v9pg-7xvm-68hf, GHSA-5rvq-cxj2-64vf"),
    # Log injection through the request path.
    "uvicorn": ("0.11.7", "CVE-2020-7694"),
    # ReDoS in email validation.
    "pydantic": ("2.4.0", "CVE-2024-3772 / GHSA-mr82-8j83-vxmv"),
    # Quadratic OID decoding, unbounded tag ids (reached through python-jose's RSA backend).
    "pyasn1": ("0.6.4", "CVE-2026-59884, CVE-2026-59885, CVE-2026-59886"),
    # Resource exhaustion in idna.encode().
    "idna": ("3.7", "CVE-2024-3651 / GHSA-jjg7-2v4v-x38h"),
    # GLOBALTRUST root certificates removed.
    "certifi": ("2024.7.4", "CVE-2024-39689 / GHSA-248v-346w-9cwc"),
    # Path traversal when loading locale data.
    "babel": ("2.9.1", "CVE-2021-42771 / GHSA-h4m5-qpfp-3mpv"),
    # .netrc credentials leaked to other hosts (pulled in by the fuzzing tools).
    "requests": ("2.32.4", "CVE-2024-47081 / GHSA-9hjg-9r4m-mvj7"),
    # Redirects followed although retries disabled them.
    "urllib3": ("2.5.0", "CVE-2025-50181 / GHSA-pq67-6m6q-mj2v"),
    # Multipart parsing resource exhaustion (pulled in by the fuzzing tools).
    "werkzeug": ("3.0.6", "CVE-2024-49767 / GHSA-q34m-jh98-gwm2"),
}


def _installed_closure(root: str, extras: tuple[str, ...]) -> dict[str, str]:
    """Every distribution ``root`` (with ``extras``) needs, transitively, with its version."""
    found: dict[str, str] = {}
    pending: list[tuple[str, tuple[str, ...]]] = [(root, extras)]
    while pending:
        name, wanted = pending.pop()
        key = canonicalize_name(name)
        if key in found and not wanted:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency that is not installed
        found[key] = distribution.version
        for line in distribution.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if marker is None or any(marker.evaluate(env) for env in environments):
                if canonicalize_name(requirement.name) not in found:
                    pending.append((requirement.name, tuple(requirement.extras)))
    return found


def test_no_installed_dependency_is_below_its_safe_floor() -> None:
    installed = _installed_closure("voucher-service", ("dev",))
    assert "fastapi" in installed and "python-jose" in installed  # the walk really ran
    too_old = [
        f"{name} {installed[name]} < {floor} ({advisory})"
        for name, (floor, advisory) in SAFE_FLOORS.items()
        if name in installed and Version(installed[name]) < Version(floor)
    ]
    assert not too_old, "upgrade: " + "; ".join(too_old)


def _pinned_floors() -> dict[str, Version]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [
        line for group in project["optional-dependencies"].values() for line in group
    ]
    floors = {}
    for line in lines:
        requirement = Requirement(line)
        for specifier in requirement.specifier:
            if specifier.operator == ">=":
                floors[canonicalize_name(requirement.name)] = Version(specifier.version)
    return floors


@pytest.mark.parametrize("name", sorted(SAFE_FLOORS))
def test_pyproject_pins_at_least_the_safe_floor(name: str) -> None:
    """A fresh install resolves nothing older than the safe floor."""
    pinned = _pinned_floors()
    floor = Version(SAFE_FLOORS[name][0])
    assert name in pinned, f"pin {name}>={floor} in pyproject.toml"
    assert pinned[name] >= floor, f"raise the pin of {name} to >={floor}"


def test_every_floor_names_its_advisory() -> None:
    advisory = re.compile(r"(CVE-\d{4}-\d+|GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})")
    assert all(advisory.search(text) for _, text in SAFE_FLOORS.values())
