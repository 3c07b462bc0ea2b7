"""Over HTTP on the local stack: a valid and an invalid deposit reach 203 and 213; events reach SNS."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, invalid_ubl_invoice, ubl_invoice

SUPPLIER_KEY = "demo-supplier-atelier-key"
XML = {"Content-Type": "application/xml"}


def subscribe_queue(stack) -> tuple[object, str]:
    sqs, sns = stack.aws("sqs"), stack.aws("sns")
    url = sqs.create_queue(QueueName="e2e-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":chorale-events")]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sqs, url


def status_of(stack, invoice_id: str):
    invoice = stack.request("GET", f"/v1/invoices/{invoice_id}", SUPPLIER_KEY).json()
    return invoice if invoice["processing"] == "done" else None


def test_deposits_reach_203_and_213_and_their_events_reach_sns(local_stack):
    sqs, queue_url = subscribe_queue(local_stack)

    valid = local_stack.request("POST", "/v1/invoices", SUPPLIER_KEY, ubl_invoice("F-E2E-1"), XML)
    invalid = local_stack.request("POST", "/v1/invoices", SUPPLIER_KEY, invalid_ubl_invoice("F-E2E-2"), XML)
    assert valid.status == invalid.status == 202
    assert valid.headers["Location"] == f"/v1/invoices/{valid.json()['id']}"

    accepted = local_stack.wait_for(lambda: status_of(local_stack, valid.json()["id"]))
    rejected = local_stack.wait_for(lambda: status_of(local_stack, invalid.json()["id"]))
    assert accepted["status"]["code"] == 203 and accepted["recipient"]["siret"] == MAIRIE_SIRET
    assert rejected["status"]["code"] == 213 and any(e["rule"] == "BR-CO-16" for e in rejected["errors"])

    seen: dict[tuple[str, str], dict] = {}

    def collect():
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            envelope = json.loads(message["Body"])
            event = json.loads(envelope["Message"])
            seen[(event["subject"], envelope["MessageAttributes"]["status_code"]["Value"])] = envelope
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return {(valid.json()["id"], "203"), (invalid.json()["id"], "213")} <= set(seen)

    local_stack.wait_for(collect, timeout=10)
    attributes = seen[(valid.json()["id"], "203")]["MessageAttributes"]
    assert attributes["supplier_siret"]["Value"] == SUPPLIER_SIRET
    assert attributes["recipient_siret"]["Value"] == MAIRIE_SIRET
    assert attributes["event_type"]["Value"] == "invoice.status_changed"
    event = json.loads(seen[(valid.json()["id"], "203")]["Message"])  # its link leads to the invoice on this API
    invoice = local_stack.request("GET", event["data"]["links"]["invoice"].removeprefix(local_stack.base_url),
                                  SUPPLIER_KEY)  # fmt: skip
    assert event["data"]["links"]["invoice"].startswith(local_stack.base_url + "/v1/invoices/")
    assert invoice.status == 200 and invoice.json()["status"]["code"] == 203


def test_original_file_downloads_unchanged(local_stack):
    body = ubl_invoice("F-E2E-FILE")
    created = local_stack.request("POST", "/v1/invoices", SUPPLIER_KEY, body, XML).json()
    redirect = local_stack.request("GET", f"/v1/invoices/{created['id']}/file", SUPPLIER_KEY)
    assert redirect.status == 302
    import urllib.request

    with urllib.request.urlopen(redirect.headers["Location"], timeout=10) as response:
        assert response.read() == body


def test_errors_are_problem_json_over_http(local_stack):
    missing = local_stack.request("POST", "/v1/invoices", None, b"<x/>", XML)
    assert missing.status == 401 and missing.headers["Content-Type"] == "application/problem+json"
    unknown_route = local_stack.request("GET", "/v2/nothing", SUPPLIER_KEY)
    assert unknown_route.status == 404 and unknown_route.headers["Content-Type"] == "application/problem+json"
    health = local_stack.request("GET", "/v1/health")
    assert health.status == 200


def test_one_invoice_from_deposit_to_212_over_http(local_stack):
    """Both parties drive an invoice through the lifecycle: 203 → 204 → 208 → 209 → 205 → 211 → 212."""
    recipient_key = "demo-recipient-mairie-key"
    created = local_stack.request("POST", "/v1/invoices", SUPPLIER_KEY, ubl_invoice("F-E2E-LIFE"), XML).json()
    invoice_id = created["id"]
    assert local_stack.wait_for(lambda: status_of(local_stack, invoice_id))["status"]["code"] == 203

    steps = [
        (recipient_key, {"code": 204}),
        (recipient_key, {"code": 208, "reason_code": "JUSTIF_ABS", "comment": "Bon de livraison manquant"}),
        (SUPPLIER_KEY, {"code": 209, "comment": "Bon de livraison joint"}),
        (recipient_key, {"code": 205}),
        (recipient_key, {"code": 211}),
        (SUPPLIER_KEY, {"code": 212, "amount": "120.00"}),
    ]
    for key, body in steps:
        response = local_stack.request(
            "POST",
            f"/v1/invoices/{invoice_id}/status",
            key,
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        assert response.status == 200, response.body
        assert response.json()["status"]["code"] == body["code"]

    history = local_stack.request("GET", f"/v1/invoices/{invoice_id}/history", recipient_key).json()["history"]
    assert [(h["code"], h["actor"]) for h in history] == [
        (200, "platform"), (203, "platform"), (204, "recipient"), (208, "recipient"), (209, "supplier"),
        (205, "recipient"), (211, "recipient"), (212, "supplier"),
    ]  # fmt: skip
    assert history[3]["reason_code"] == "JUSTIF_ABS"
    final = local_stack.request("GET", f"/v1/invoices/{invoice_id}/transitions", SUPPLIER_KEY).json()
    assert final["current"]["name"] == "ENCAISSEE" and final["allowed"] == []


def test_a_busy_port_is_reported_in_one_line_before_anything_starts():
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = subprocess.run([sys.executable, "-m", "devstack", "--port", str(port)], capture_output=True,
                                 text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert started.returncode == 2 and "Traceback" not in started.stderr
    assert started.stderr.strip() == (
        f"port {port} on 127.0.0.1 is in use (another `make run`?): stop it, or choose another port, "
        "e.g. make run PORT=8001 (AWS_PORT= for the AWS stand-in)"
    )


def connection(stack) -> http.client.HTTPConnection:
    address = urlsplit(stack.base_url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=10)


def test_a_head_answer_has_no_body_so_the_connection_serves_the_next_request(local_stack):
    """r63 M1: the HEAD's problem body was written after its headers and read as the next response."""
    conn = connection(local_stack)
    conn.request("HEAD", "/v1/health")
    head = conn.getresponse()
    assert head.status == 405 and head.read() == b"" and int(head.headers["Content-Length"]) > 0
    conn.request("GET", "/v1/health")
    again = conn.getresponse()
    assert again.status == 200 and json.loads(again.read())
    conn.close()


def test_a_chunked_request_body_is_read_whole(local_stack):
    """r63 M2: a streaming client's body (Transfer-Encoding: chunked, no Content-Length) was 'empty', then its
    chunks were answered as requests."""
    body = ubl_invoice("F-E2E-CHUNKED")
    conn = connection(local_stack)
    conn.request("POST", "/v1/invoices", body=iter([body[:1000], body[1000:]]), encode_chunked=True,
                 headers={"Authorization": f"Bearer {SUPPLIER_KEY}", **XML})  # fmt: skip
    answer = conn.getresponse()
    created = json.loads(answer.read())
    assert answer.status == 202, created
    conn.request("GET", f"/v1/invoices/{created['id']}", headers={"Authorization": f"Bearer {SUPPLIER_KEY}"})
    assert conn.getresponse().status == 200  # the connection still speaks HTTP
    conn.close()


def raw_exchange(stack, request: bytes) -> bytes:
    address = urlsplit(stack.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /v1/invoices HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),  # was no answer at all
        (b"GET /v1/invoices?" + b"q" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),  # was http.server's HTML
    ],
    ids=["content-length-not-a-number", "request-line-too-long"],
)
def test_the_http_layer_s_refusals_are_problems_too(local_stack, request_bytes, status):
    answer = raw_exchange(local_stack, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode()
    assert b"application/problem+json" in head
    assert json.loads(body)["status"] == status


def test_options_is_the_404_api_gateway_answers_for_a_method_no_route_has(local_stack):
    """r63 L4: no route enables CORS, so AWS has no OPTIONS method (Missing Authentication Token, infra's 404)."""
    conn = connection(local_stack)
    conn.request("OPTIONS", "/v1/invoices", headers={"Origin": "https://app.example.org"})
    answer = conn.getresponse()
    problem = json.loads(answer.read())
    assert answer.status == 404 and answer.headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == 404 and "Access-Control-Allow-Methods" not in answer.headers
    conn.close()


def test_a_download_followed_with_the_api_key_is_refused_as_s3_refuses_it(local_stack):
    """r63 M3: S3 answers 400 to a presigned URL that also carries Authorization; moto took it, so a client passing
    on make run could fail in production."""
    created = local_stack.request("POST", "/v1/invoices", SUPPLIER_KEY, ubl_invoice("F-E2E-TWO-AUTH"), XML).json()
    conn = connection(local_stack)
    conn.request("GET", f"/v1/invoices/{created['id']}/file", headers={"Authorization": f"Bearer {SUPPLIER_KEY}"})
    redirect = conn.getresponse()
    redirect.read()
    assert redirect.status == 302
    conn.close()
    location = urlsplit(redirect.headers["Location"])
    for authorization, status in ((None, 200), (f"Bearer {SUPPLIER_KEY}", 400)):
        s3 = http.client.HTTPConnection(location.hostname, location.port, timeout=10)
        s3.request(
            "GET",
            f"{location.path}?{location.query}",
            headers={"Authorization": authorization} if authorization else {},
        )
        answer = s3.getresponse()
        body = answer.read()
        assert answer.status == status, body
        s3.close()
    assert b"<Code>InvalidArgument</Code>" in body and b"Only one auth mechanism allowed" in body
