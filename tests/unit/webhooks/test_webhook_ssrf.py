"""SSRF rules on webhook URLs: scheme, credentials, numeric hosts, every resolved address. No DNS, no network."""

from __future__ import annotations

import pytest
from webhook_support import static_resolver

from chalicelib.domain.subscriptions_security import UnsafeUrl, UrlPolicy, address_refusal
from chalicelib.services.subscriptions import checked_url

AWS = UrlPolicy(local_stack=False)
LOCAL = UrlPolicy(local_stack=True)
RESOLVE = static_resolver(
    {
        "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "rebind.example.com": ["93.184.216.34", "10.0.0.7"],  # one bad address is enough to refuse
        "metadata.example.com": ["169.254.169.254"],
        "localhost": ["127.0.0.1", "::1"],
        "mapped.example.com": ["::ffff:169.254.169.254"],
        "private6.example.com": ["fd00::1"],
    }
)


def test_public_https_receivers_are_accepted_with_every_address():
    assert checked_url("https://hooks.example.com/chorale?x=1", RESOLVE, AWS) == [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
    ]
    assert checked_url("https://93.184.216.34:8443/h", RESOLVE, AWS) == ["93.184.216.34"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "only https"),
        ("ftp://hooks.example.com/", "only https"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https:///nohost", "no host"),
        ("https://hooks.example.com/#frag", "fragment"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://metadata.example.com/", "does not resolve to a public address"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://mapped.example.com/", "does not resolve to a public address"),
        ("https://10.0.0.1/", "private"),
        ("https://172.16.5.4/", "private"),
        ("https://192.168.1.10/", "private"),
        ("https://private6.example.com/", "does not resolve to a public address"),
        ("https://rebind.example.com/", "does not resolve to a public address"),
        ("https://127.0.0.1/", "loopback"),
        ("https://localhost/", "does not resolve to a public address"),
        ("https://[::1]/", "loopback"),
        ("https://224.0.0.1/", "multicast"),
        ("https://[ff02::1]/", "multicast"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://240.0.0.1/", "reserved"),
        ("https://100.64.0.1/", "not a public"),
        ("https://2130706433/", "numeric host"),
        ("https://0x7f.1/", "numeric host"),
        ("https://0177.0.0.1/", "numeric host"),
        ("https://unknown.example.com/", "does not resolve to a public address"),
        ("https://hooks.example.com:0/", "port 0"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://" + "a" * 2100 + ".com/", "at most"),
        # review findings: a 500 at subscription (the resolver's UnicodeError), or every event lost at delivery
        ("https://a..b/", "not a DNS name"),
        ("https://" + "a" * 64 + ".example.com/", "not a DNS name"),
        ("https://hooks.example.com/factur\u00e9", "must be ASCII: percent-encode"),
        ("https://hooks.example.com/?q=\udcff", "must be ASCII"),
        ("https://\u00e9t\u00e9.example.com/", "xn-- form"),
    ],
)
def test_unsafe_urls_are_refused_outside_the_local_stack(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        checked_url(url, RESOLVE, AWS)


def test_the_local_stack_accepts_http_to_loopback_only():
    assert checked_url("http://127.0.0.1:8080/h", RESOLVE, LOCAL) == ["127.0.0.1"]
    assert checked_url("http://localhost:8080/h", RESOLVE, LOCAL) == ["127.0.0.1", "::1"]
    assert checked_url("https://hooks.example.com/", RESOLVE, LOCAL)
    with pytest.raises(UnsafeUrl, match="only accepted for loopback"):
        checked_url("http://hooks.example.com/", RESOLVE, LOCAL)
    for url in ("http://169.254.169.254/", "http://10.1.2.3/", "http://224.0.0.1/", "http://[::ffff:10.0.0.1]/"):
        with pytest.raises(UnsafeUrl):
            checked_url(url, RESOLVE, LOCAL)


@pytest.mark.parametrize(
    "address",
    ["2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "2001:0:4136:e378:8000:63bf:56ff:fff4", "fe80::1", "not-an-ip"],
)
def test_addresses_hiding_a_refused_ipv4_are_refused(address):
    # 6to4 of 169.254.169.254, NAT64 of 169.254.169.254, Teredo (client 169.0.0.11… link-local/private), link-local v6
    assert address_refusal(address, AWS) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/",
        "https://metadata.example.com/",
        "https://rebind.example.com/",
        "https://unknown.example.com/",
    ],
)
def test_a_refused_name_does_not_disclose_what_it_resolves_to(url, caplog):
    """The platform's resolver sees internal DNS: the subscriber learns only that the host is not public (the same
    words whether it does not resolve or resolves to a private address), the detail goes to the logs."""
    with pytest.raises(UnsafeUrl) as refused:
        checked_url(url, RESOLVE, AWS)
    message = str(refused.value)
    host = url.split("/")[2]
    assert message == f"{host} does not resolve to a public address: webhooks are only delivered to public addresses"
    assert not any(c.isdigit() for c in message.replace("example", ""))  # no address, v4 or v6
    assert "resolve" in refused.value.detail and host in refused.value.detail


def test_a_refused_address_written_as_such_keeps_its_reason():
    with pytest.raises(UnsafeUrl, match=r"^169\.254\.169\.254 is a link-local address"):
        checked_url("https://169.254.169.254/", RESOLVE, AWS)


def test_a_resolver_that_cannot_encode_a_name_is_a_refusal_not_a_crash():
    def idna_refuses(host, port):
        raise UnicodeError("encoding with 'idna' codec failed (UnicodeError: label empty or too long)")

    with pytest.raises(UnsafeUrl, match="does not resolve"):
        checked_url("https://hooks.example.com/", idna_refuses, AWS)
