"""The AWS stand-in of the local stack: moto's threaded server, with the checks of real AWS that moto leaves out."""

from __future__ import annotations

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

# S3's refusal of a request that authenticates twice (a presigned URL and an Authorization header): a client that
# re-sends its API key when it follows a download's 302 fails there, so it fails here too (moto takes it).
S3_ONE_AUTH_MECHANISM = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism '
    b"allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header "
    b"should be specified</Message><ArgumentName>Authorization</ArgumentName></Error>"
)
_QUERY_SIGNATURES = ("X-Amz-Algorithm=", "X-Amz-Signature=", "Signature=")


def one_auth_mechanism(app):
    """WSGI middleware for the AWS stand-in: S3's 400 InvalidArgument for a query-signed request that also carries
    an Authorization header."""

    def checked(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if environ.get("HTTP_AUTHORIZATION") and any(signature in query for signature in _QUERY_SIGNATURES):
            start_response("400 Bad Request", [("Content-Type", "application/xml"),
                                               ("Content-Length", str(len(S3_ONE_AUTH_MECHANISM)))])  # fmt: skip
            return [S3_ONE_AUTH_MECHANISM]
        return app(environ, start_response)

    return checked


class AwsStandIn(ThreadedMotoServer):
    """ThreadedMotoServer (its own start, as moto 5 writes it) whose WSGI app refuses what S3 refuses and moto takes
    (one_auth_mechanism)."""

    def _server_entry(self) -> None:
        app = one_auth_mechanism(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
