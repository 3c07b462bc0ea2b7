"""Outbound webhook HTTP: resolve names, and POST to an address that was checked (no second resolution)."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time

from ..domain.subscriptions_security import Target
from ..services.subscriptions_ports import HttpResult

# A name whose DNS servers answer slowly (the subscriber chooses them) must not hold a delivery, or the API's
# subscribe, for the C library's own timeouts (up to 30 s): the lookup gets this long, then the URL is refused.
DNS_TIMEOUT_SECONDS = 2.0


def system_resolver(host: str, port: int, timeout: float = DNS_TIMEOUT_SECONDS) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), within `timeout` seconds (else OSError).

    getaddrinfo cannot be interrupted: it runs in a daemon thread, left to finish on its own when it is late."""
    outcome: list = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP))
        except BaseException as error:  # (handed to the caller below)
            outcome.append(error)

    worker = threading.Thread(target=lookup, name="dns-lookup", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise TimeoutError(f"no DNS answer within {timeout:g} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return list(dict.fromkeys(info[4][0] for info in outcome[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` while the request names `host` (the checked address is the one called)."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, address, timeout)
        self._context = context

    def connect(self):
        super().connect()
        # SNI and certificate verification against the name in the URL, not the address.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class HttpWebhookSender:
    def __init__(self, context: ssl.SSLContext | None = None):
        self.context = context or ssl.create_default_context()

    def post(self, target: Target, address: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpResult:
        """The whole exchange (connect, TLS, request, status line and headers) gets `timeout` seconds in total:
        a receiver dripping bytes cannot hold a delivery slot longer (a watchdog closes the socket)."""
        started = time.monotonic()
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(target.host, target.port, address, timeout, self.context)
        else:
            connection = _PinnedHTTPConnection(target.host, target.port, address, timeout)
        expired = threading.Event()
        watchdog = threading.Timer(timeout, _abort, args=(connection, expired))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", target.path, body=body, headers={**headers, "Connection": "close"})
            status = connection.getresponse().status  # the body is not needed: the status decides
        except (OSError, http.client.HTTPException, ValueError) as error:  # ValueError: a URL http.client refuses
            if expired.is_set() or isinstance(error, TimeoutError):
                return HttpResult(None, _ms(started), f"timeout after {timeout:g} s")
            return HttpResult(None, _ms(started), f"{type(error).__name__}: {error}"[:300])
        finally:
            watchdog.cancel()
            connection.close()
        if expired.is_set():
            return HttpResult(None, _ms(started), f"timeout after {timeout:g} s")
        error = (
            None
            if 200 <= status < 300
            else f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        )
        return HttpResult(status, _ms(started), error)


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
