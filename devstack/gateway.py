"""The local API: chalice's local gateway, with gateway errors as problem+json (as infra maps them in AWS)."""

from __future__ import annotations

import json
import re
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

from chalicelib.entrypoints.problems import PROBLEM_JSON, gateway_problem
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


class ProblemRequestHandler(ChaliceRequestHandler):
    def __init__(self, request, client_address, server, app_object, config) -> None:
        self.local_gateway = local_gateway(app_object, config)
        # the base handler answers the request inside BaseHTTPRequestHandler.__init__: our gateway is set first
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        status, headers, body = problem_for(error, self.path)
        self._send_http_response(status, headers, body)

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
