"""The local API: chalice's local gateway, with gateway errors as problem+json (as infra maps them in AWS)."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from urllib.parse import urlsplit

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from chalicelib.entrypoints.problems import PROBLEM_JSON, gateway_problem, problem_body
from chalicelib.services.authentication import BEARER_HEADER_PATTERN


class BearerCheckingAuthorizer(LocalGatewayAuthorizer):
    """As API Gateway with infra's identityValidationExpression: an Authorization header that is not
    `Bearer <key>` is a 401 UNAUTHORIZED before the authorizer runs (chalice local only checks that it is present)."""

    def _prepare_authorizer_event(self, arn, lambda_event, lambda_context):
        event = super()._prepare_authorizer_event(arn, lambda_event, lambda_context)
        if not re.fullmatch(BEARER_HEADER_PATTERN, event["authorizationToken"]):
            raise NotAuthorizedError(
                {"x-amzn-RequestId": lambda_context.aws_request_id, "x-amzn-ErrorType": "UnauthorizedException"},
                b'{"message":"Unauthorized"}',
            )
        return event


def local_gateway(app, config) -> LocalGateway:
    """chalice's local API Gateway, checking the Authorization header's form as API Gateway does."""
    gateway = LocalGateway(app, config)
    gateway._authorizer = BearerCheckingAuthorizer(app)
    return gateway


def gateway_error_kind(error: LocalGatewayException) -> str:
    """The API Gateway response type that AWS would use for this local gateway error."""
    if isinstance(error, NotAuthorizedError):
        return "UNAUTHORIZED"
    if isinstance(error, ForbiddenError):
        error_type = error.headers.get("x-amzn-ErrorType", "")
        return "ACCESS_DENIED" if error_type == "AccessDeniedException" else "MISSING_AUTHENTICATION_TOKEN"
    return "DEFAULT_5XX"


def problem_for(error: LocalGatewayException, path: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """As infra's gateway responses: the problem, with `instance` the request's path (without its query)."""
    status, body = gateway_problem(gateway_error_kind(error))
    if path:
        body["instance"] = urlsplit(path).path
    headers = {k: v for k, v in error.headers.items() if k.lower() != "content-type"}
    headers["Content-Type"] = PROBLEM_JSON
    headers["Cache-Control"] = "no-store"
    return status, headers, json.dumps(body).encode()


# API Gateway's payload limit: a body past it is refused before any handler runs (413 there too)
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024


class RefusedRequest(Exception):
    """A request the HTTP layer refuses before the gateway sees it (API Gateway would refuse it too)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class ProblemRequestHandler(ChaliceRequestHandler):
    """chalice's local handler, as an HTTP client meets API Gateway: problem+json for every refusal (its own and
    http.server's), no body on HEAD, and chunked request bodies read (chalice reads Content-Length only)."""

    def __init__(self, request, client_address, server, app_object, config) -> None:
        self.local_gateway = local_gateway(app_object, config)
        # the base handler answers the request inside BaseHTTPRequestHandler.__init__: our gateway is set first
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        status, headers, body = problem_for(error, self.path)
        self._send_http_response(status, headers, body)

    def _generic_handle(self) -> None:
        try:
            if self.command != "OPTIONS":
                super()._generic_handle()
                return
            # Chalice deploys an OPTIONS method only for a route with CORS, and none has: API Gateway answers
            # Missing Authentication Token, a 404 problem (chalice local answered 200 with made-up CORS headers).
            self._parse_payload()  # its body, if any, is not left to be read as the next request
            headers = {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}
            self._send_error_response(ForbiddenError(headers, b'{"message": "Missing Authentication Token"}'))
        except RefusedRequest as refused:
            self.send_error(refused.status, explain=refused.detail)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _parse_payload(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return dict(self.headers), self._read_chunked() or None
        length = self.headers.get("content-length", "0").strip()
        if not length.isdigit():  # chalice's int() raised: no answer at all, a traceback in the operator's terminal
            raise RefusedRequest(400, f"Content-Length {length[:40]!r} is not a number of bytes.")
        if int(length) > MAX_REQUEST_BODY_BYTES:
            raise RefusedRequest(413, f"The body is {length} bytes; API Gateway takes {MAX_REQUEST_BODY_BYTES} at most")
        return super()._parse_payload()

    def _read_chunked(self) -> bytes:
        """A Transfer-Encoding: chunked body (streaming clients: requests with a generator, Java, .NET, curl -T -),
        trailers skipped; bounded as a Content-Length one."""
        parts, size = [], 0
        while True:
            line = self.rfile.readline(65537).split(b";", 1)[0].strip()
            try:
                chunk = int(line, 16)
            except ValueError:
                raise RefusedRequest(400, "The chunked request body is malformed.") from None
            if chunk == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            size += chunk
            if size > MAX_REQUEST_BODY_BYTES:
                raise RefusedRequest(413, f"The body is over {MAX_REQUEST_BODY_BYTES} bytes, API Gateway's limit.")
            parts.append(self.rfile.read(chunk))
            self.rfile.readline(3)  # the CRLF after the chunk

    def _send_http_response_with_body(self, code, headers, body) -> None:
        if self.command != "HEAD":
            super()._send_http_response_with_body(code, headers, body)
            return
        # RFC 9110 9.3.2: the headers a GET would get, never a body (it would be read as the next response)
        self.send_response(code)
        self.send_header("Content-Length", str(len(body if isinstance(body, bytes) else body.encode("utf-8"))))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def send_error(self, code, message=None, explain=None) -> None:
        """http.server's own refusals (414, 431, 501, a malformed request line) as problem+json, like every other
        answer; the connection is closed, as http.server does."""
        self.close_connection = True
        instance = urlsplit(getattr(self, "path", "") or "").path or None
        body = json.dumps(problem_body(code, detail=explain or message or HTTPStatus(code).description,
                                       instance=instance)).encode()  # fmt: skip
        self.send_response(code, message)
        self.send_header("Content-Type", PROBLEM_JSON)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - quiet access log; the app logs what matters
        pass


def make_server(app, config, host: str, port: int, listener: ThreadedHTTPServer | None = None) -> LocalDevServer:
    """As chalice.local.create_local_server, with our handler: the app becomes a LocalChalice, whose
    `current_request` is per thread. The server answers requests in parallel threads; with one shared
    `current_request`, a request could read another's caller and body. `listener`: a server already bound (made
    with no handler), so that its port was known before the app read its settings."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    if listener is None:
        return LocalDevServer(app, config, host, port, handler_cls=ProblemRequestHandler)

    def bound_server(address, handler) -> ThreadedHTTPServer:
        listener.RequestHandlerClass = handler
        return listener

    return LocalDevServer(app, config, host, port, handler_cls=ProblemRequestHandler, server_cls=bound_server)
