"""The HTTP sender against servers on 127.0.0.1: pinned address, Host header, statuses, total timeout."""

from __future__ import annotations

import socket
import threading

import pytest
from webhook_support import Receiver

from chalicelib.adapters import webhook_http
from chalicelib.adapters.webhook_http import HttpWebhookSender
from chalicelib.domain.subscriptions_security import Target


def test_posts_to_the_checked_address_with_the_url_host_and_path():
    with Receiver() as receiver:
        port = receiver.server.server_port
        # the name is never resolved by the sender: it connects to the address it is given
        target = Target("http", "hooks.invalid", port, "/hooks/chorale?x=1")
        body = b'{"specversion":"1.0","id":"test-01JD0000000000000000000000","source":"urn:chorale:subscriptions",' \
               b'"type":"chorale.subscription.test","time":"2026-11-26T10:00:00Z","subject":"s",' \
               b'"data":{"subscription_id":"s","siret":"81234567800013","message":"m"}}'  # fmt: skip
        result = HttpWebhookSender().post(target, "127.0.0.1", {"Content-Type": "application/json"}, body, 5.0)
        assert result.ok and result.status == 204 and result.error is None
        [received] = receiver.received
        assert received.headers["Host"] == f"hooks.invalid:{port}"


def test_error_statuses_and_refused_connections_are_failures():
    with Receiver(mode="fail") as receiver:
        target = Target("http", "127.0.0.1", receiver.server.server_port, "/")
        result = HttpWebhookSender().post(target, "127.0.0.1", {}, b"{}", 5.0)
        assert (result.ok, result.status, result.error) == (False, 500, "HTTP 500")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    result = HttpWebhookSender().post(Target("http", "127.0.0.1", closed_port, "/"), "127.0.0.1", {}, b"{}", 5.0)
    assert not result.ok and result.status is None and "Connection" in result.error


def test_a_receiver_dripping_its_answer_is_cut_at_the_total_timeout():
    """Each byte comes well within a per-read timeout, the whole answer far beyond the 0.5 s total: the sender
    must hang up while the receiver is still dripping (without the total timeout, post() would only return
    once the whole status line and header had arrived, or end in a disconnect rather than a timeout)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10.0)  # accept() gives up by itself if the sender never connects
    stop, dripped_all = threading.Event(), threading.Event()

    def drip():
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n":
                if stop.wait(0.1):  # the pace of the drip, interrupted when the test is done
                    return
                try:
                    connection.send(bytes([byte]))
                except OSError:
                    return
            dripped_all.set()

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        result = HttpWebhookSender().post(Target("http", "127.0.0.1", server.getsockname()[1], "/"), "127.0.0.1", {},
                                          b"{}", 0.5)  # fmt: skip
        assert not dripped_all.is_set()  # the sender gave up before the receiver had finished answering
        assert (result.ok, result.status, result.error) == (False, None, "timeout after 0.5 s")
    finally:
        stop.set()
        thread.join(timeout=10.0)
        server.close()
    assert not thread.is_alive()


def test_a_url_http_client_refuses_is_a_failed_attempt_not_a_crash():
    """Review finding: a non-ASCII path (accepted before subscriptions refused them) raised UnicodeEncodeError,
    which nothing recorded: the job was dead-lettered without a trace. The request line fails before connecting."""
    target = Target("http", "127.0.0.1", 9, "/hooks/factur\u00e9")
    result = HttpWebhookSender().post(target, "127.0.0.1", {}, b"{}", 5.0)
    assert not result.ok and result.status is None and "UnicodeEncodeError" in result.error


def test_a_dns_lookup_that_does_not_answer_in_time_is_a_failure_not_a_wait(monkeypatch):
    # The subscriber chooses the name, hence its DNS servers: a slow one must not hold the delivery (or the API).
    release = threading.Event()

    def stuck_getaddrinfo(*args, **kwargs):
        release.wait(10)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 443))]

    monkeypatch.setattr(webhook_http.socket, "getaddrinfo", stuck_getaddrinfo)
    try:
        with pytest.raises(TimeoutError, match="no DNS answer within 0.05 s"):
            webhook_http.system_resolver("slow.example", 443, timeout=0.05)
    finally:
        release.set()


def test_the_resolver_returns_every_address_once_and_passes_dns_errors_on(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 443)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", 443, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 443)),
    ]
    monkeypatch.setattr(webhook_http.socket, "getaddrinfo", lambda *a, **k: answers)
    assert webhook_http.system_resolver("hooks.example", 443) == ["203.0.113.7", "2001:db8::7"]

    def unknown(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(webhook_http.socket, "getaddrinfo", unknown)
    with pytest.raises(socket.gaierror):
        webhook_http.system_resolver("unknown.example", 443)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n", "HTTP 302 (redirects are not followed)"),
        (b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n", "HTTP 103"),  # r49: not called a redirect
    ],
)  # fmt: skip
def test_a_non_2xx_answer_is_a_failure_named_by_its_status(answer, error):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(5)

        def answer_once():
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

        responder = threading.Thread(target=answer_once, daemon=True)
        responder.start()
        target = Target("http", "127.0.0.1", server.getsockname()[1], "/")
        result = HttpWebhookSender().post(target, "127.0.0.1", {}, b"{}", 5.0)
        responder.join(5)
    assert (result.ok, result.error) == (False, error)
