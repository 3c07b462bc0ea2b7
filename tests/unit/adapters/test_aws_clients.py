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


def test_a_stalled_aws_call_fails_within_the_validation_s_reserve(fresh_clients):
    """Review r37: every client kept botocore's 60 s connect and 60 s read timeouts (PynamoDB's: 15 s and 30 s), so
    one stalled call outlasted API Gateway's 29 s, the Lambda timeouts and the validation's 30 s reserve."""
    from chalicelib.adapters.subscription_tables import SUBSCRIPTION_TABLES
    from chalicelib.adapters.tables import ALL_TABLES
    from chalicelib.entrypoints.events import VALIDATION_RESERVE_MS

    for service in ("dynamodb", "s3", "sqs", "sns"):
        config = aws.client(service).meta.config
        assert (config.connect_timeout, config.read_timeout) == (2, 5), service
        assert config.retries["total_max_attempts"] == aws.ATTEMPTS == 5  # review r37: "4 attempts" was 5
    for model in {*ALL_TABLES, *SUBSCRIPTION_TABLES}:
        connection = model._get_connection().connection
        assert (connection._connect_timeout_seconds, connection._read_timeout_seconds) == (2, 5), model.__name__
        assert connection._max_retry_attempts_exception + 1 == aws.ATTEMPTS, model.__name__
    assert aws.CALL_WORST_CASE_SECONDS == 5 * (2 + 5) + (1 + 2 + 4 + 8)
    # the reserve covers one call stalled on every attempt, with time left for the object's own work
    assert VALIDATION_RESERVE_MS >= aws.CALL_WORST_CASE_SECONDS * 1000 + 10_000
