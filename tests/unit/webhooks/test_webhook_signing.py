"""Signatures: the header format, the HMAC, rotation (two v1), and what a receiver checks (replays)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chalicelib.domain.subscriptions import Subscription
from chalicelib.domain.subscriptions_security import (
    BadSignature,
    signature,
    signature_header,
    verify_signature,
)

BODY = b'{"id":"01JABCDEFGHJKMNPQRSTVWXYZ0-1"}'


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"whsec_x", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature("whsec_x", 1700000000, BODY) == expected
    assert signature_header(["whsec_x"], 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_receiver_accepts_a_fresh_signature_and_refuses_tampering_and_replays():
    header = signature_header(["s3cret"], 1_700_000_000, BODY)
    assert verify_signature("s3cret", header, BODY, now=1_700_000_100) == 1_700_000_000
    with pytest.raises(BadSignature, match="no signature matches"):
        verify_signature("s3cret", header, BODY + b" ", now=1_700_000_100)
    with pytest.raises(BadSignature, match="no signature matches"):
        verify_signature("other", header, BODY, now=1_700_000_100)
    with pytest.raises(BadSignature, match="replay"):
        verify_signature("s3cret", header, BODY, now=1_700_000_000 + 301)
    with pytest.raises(BadSignature, match="malformed"):
        verify_signature("s3cret", "v1=abc", BODY, now=1_700_000_000)


def test_a_rotated_subscription_signs_with_both_secrets_during_the_grace_period_only():
    subscription = Subscription("01JD0000000000000000000000", "81234567800013", "t", url="https://x", secret="old")
    rotated = subscription.rotated("new", now=1000.0, grace_seconds=60)
    assert rotated.signing_secrets(1030.0) == ["new", "old"]
    assert rotated.signing_secrets(1061.0) == ["new"]
    header = signature_header(rotated.signing_secrets(1030.0), 1030, BODY)
    assert header.count("v1=") == 2
    # a receiver still holding the old secret, and one already on the new one, both verify
    assert verify_signature("old", header, BODY, now=1030) == verify_signature("new", header, BODY, now=1030)


@pytest.mark.parametrize(
    "forged",
    ["t=1700000000,v1=é", "t=1700000000,v1=" + "é" * 64, "t=1700000000,v1=\ud800", "t=1700000000,v1=ｆｆ"],
    ids=["non-ascii", "non-ascii-64", "surrogate", "fullwidth"],
)
def test_a_signature_value_that_is_not_ascii_is_refused_not_a_type_error(forged):
    with pytest.raises(BadSignature, match="no signature matches"):
        verify_signature("s3cret", forged, BODY, now=1_700_000_000)


def test_a_timestamp_of_unicode_digits_is_malformed_not_a_value_error():
    with pytest.raises(BadSignature, match="malformed"):
        verify_signature("s3cret", "t=１７００,v1=00", BODY, now=1_700_000_000)
    with pytest.raises(BadSignature, match="malformed"):
        verify_signature("s3cret", "t=²,v1=00", BODY, now=1_700_000_000)


def docs_receiver():
    """The Python receiver of docs/webhooks.md, as a reader copies it."""
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "webhooks.md").read_text(encoding="utf-8")
    code = next(block for block in text.split("```python\n")[1:] if "def verify(" in block).split("```")[0]
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def test_the_documented_receiver_accepts_ours_and_refuses_forged_values_with_value_error():
    verify = docs_receiver()
    header = signature_header(["s3cret"], 1_700_000_000, BODY)
    assert verify("s3cret", header, BODY, now=1_700_000_100)["id"].startswith("01J")
    for forged in ("t=1700000000,v1=é", "t=1700000000,v1=\ud800", "t=²,v1=00"):
        with pytest.raises(ValueError):
            verify("s3cret", forged, BODY, now=1_700_000_000)
