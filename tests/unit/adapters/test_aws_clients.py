"""The boto3 clients the adapters share: no network (presigning is local)."""

from __future__ import annotations

import pytest

from chalicelib.adapters import aws


@pytest.fixture
def fresh_clients(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    aws.reset_clients()
    yield
    aws.reset_clients()


def test_presigned_urls_name_the_bucket_s_regional_endpoint_on_aws(fresh_clients, monkeypatch):
    """Review finding: the legacy global endpoint (<bucket>.s3.amazonaws.com) redirects for up to a day after the
    bucket is created, which breaks signed downloads and browser uploads, and never works in opt-in regions."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    s3 = aws.client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "chorale-prod-invoices", "Key": "originals/a"})
    assert url.startswith(f"https://chorale-prod-invoices.s3.{s3.meta.region_name}.amazonaws.com/originals/a?")
    post = s3.generate_presigned_post("chorale-prod-invoices", "inbox/x")
    assert post["url"] == f"https://chorale-prod-invoices.s3.{s3.meta.region_name}.amazonaws.com/"


def test_a_local_endpoint_keeps_path_style_urls(fresh_clients, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    url = aws.client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert url.startswith("http://127.0.0.1:5999/b/k?")
