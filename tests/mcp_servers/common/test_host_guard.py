"""The Host/Origin allowlist on its own (the real-HTTP tests are in test_http_hosts.py and
tests/web/test_security.py): host parsing, the settings type, and each refusal."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_servers.common.host_guard import AllowedHosts, HostAllowlist, needs_token, split_host

PORT = 8765


def scope(host: str | None, origin: str | None = None, scheme: str = "http") -> dict:
    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": "http", "scheme": scheme, "server": ("127.0.0.1", PORT), "headers": headers}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("localhost:8000", ("localhost", 8000)),
        ("[::1]:8000", ("::1", 8000)),
        ("Pepper.LAN", ("pepper.lan", None)),
        ("127.0.0.1", ("127.0.0.1", None)),
    ],
)
def test_split_host_reads_name_and_port(value: str, expected: tuple[str, int | None]) -> None:
    assert split_host(value) == expected


@pytest.mark.parametrize("value", ["", "evil.example/path", "user@host", "host:notaport", "a b"])
def test_split_host_rejects_what_is_not_a_host(value: str) -> None:
    with pytest.raises(ValueError, match="not a host|Port could not be cast"):
        split_host(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEPPER_TEST_")
    allowed_hosts: AllowedHosts = ()


def test_allowed_hosts_setting_reads_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPER_TEST_ALLOWED_HOSTS", " Pepper.lan, [fd00::7] ,,192.168.1.4")
    assert Settings().allowed_hosts == ("pepper.lan", "fd00::7", "192.168.1.4")
    assert Settings(allowed_hosts=["A.example"]).allowed_hosts == ("a.example",)


def test_needs_token_off_loopback_or_with_extra_host_names() -> None:
    assert not needs_token("127.0.0.1", ())
    assert not needs_token("::1", ["localhost", "[::1]"])
    assert needs_token("0.0.0.0", ())
    assert needs_token("127.0.0.1", ["pepper.lan"])


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST", "pepper.lan:8765"]
)
def test_allowlist_lets_allowed_hosts_through(host: str) -> None:
    assert HostAllowlist("0.0.0.0", ["pepper.lan"]).refusal(scope(host)) is None


@pytest.mark.parametrize(
    "host", ["evil.example:8765", "pepper.lan.evil.example:8765", "localhost:9999", "", None]
)
def test_allowlist_answers_421_to_other_hosts_and_ports(host: str | None) -> None:
    refusal = HostAllowlist("0.0.0.0", ["pepper.lan"]).refusal(scope(host))
    assert refusal is not None and refusal[0] == 421


def test_allowlist_allows_a_specific_bind_address_but_not_a_wildcard() -> None:
    assert HostAllowlist("192.168.1.4").refusal(scope("192.168.1.4:8765")) is None
    assert HostAllowlist("pepper.lan").refusal(scope("pepper.lan:8765")) is None
    assert HostAllowlist("0.0.0.0").refusal(scope("0.0.0.0:8765")) is not None
    assert HostAllowlist("::").refusal(scope("[::]:8765")) is not None


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "http://pepper.lan:8765"],
)
def test_allowlist_accepts_the_origin_of_an_allowed_host_on_this_port(origin: str) -> None:
    assert HostAllowlist("127.0.0.1", ["pepper.lan"]).refusal(scope("localhost:8765", origin)) is None


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:3000",  # another local web server
        "http://localhost",  # port 80
        "https://localhost:8765",  # another scheme
        "http://evil.example:8765",
        "null",
        "http://localhost:8765/path",
        "http://user@localhost:8765",
        "http://localhost:notaport",
    ],
)
def test_allowlist_answers_403_to_any_other_origin(origin: str) -> None:
    refusal = HostAllowlist("127.0.0.1").refusal(scope("localhost:8765", origin))
    assert refusal is not None and refusal[0] == 403


def test_allowlist_expects_https_origins_on_a_tls_server() -> None:
    allowlist = HostAllowlist("127.0.0.1")
    assert allowlist.refusal(scope("localhost:8765", "https://localhost:8765", scheme="https")) is None
    assert allowlist.refusal(scope("localhost:8765", "http://localhost:8765", scheme="https")) is not None
