"""The local gateway answers requests in parallel threads: each must read its own request."""

from __future__ import annotations

import threading

from chalice import Chalice
from chalice.config import Config

from devstack.gateway import make_server


def test_each_thread_of_the_local_gateway_reads_its_own_request():
    """Review finding: with one shared `current_request`, another structure's request could read atelier's caller
    and body (a leak seen twice in 10 s of parallel reads)."""
    app = Chalice("gateway-test")
    server = make_server(app, Config(), "127.0.0.1", 0)
    try:
        app.current_request = "the main thread's request"
        seen = []
        other = threading.Thread(target=lambda: seen.append(getattr(app, "current_request", None)))
        other.start()
        other.join()
        assert seen == [None] and app.current_request == "the main thread's request"
        assert make_server(app, Config(), "127.0.0.1", 0) is not None  # a second server of the same app
    finally:
        server.server.server_close()


def test_a_local_gateway_problem_names_the_request_s_path_as_api_gateway_s_do():
    """Review finding: locally a 401 had no `instance`, although infra's gateway responses carry $context.path."""
    import json

    from chalice.local import NotAuthorizedError

    from devstack.gateway import problem_for

    status, headers, body = problem_for(NotAuthorizedError({}, b""), "/v1/invoices?status=203")
    problem = json.loads(body)
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
    assert problem["instance"] == "/v1/invoices" and problem["status"] == 401
    assert headers["Cache-Control"] == "no-store"  # review r25: private like the app's own problems


def test_a_stopped_stack_s_port_is_free_again_at_once_and_a_listening_one_is_not():
    """Review finding: restarting `make run` right after a stop was refused ("port in use") for ~90 s, while the
    server-side TIME_WAIT socket of the last connection lingered; the servers themselves bind with SO_REUSEADDR."""
    import socket

    from devstack.__main__ import _port_free

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert not _port_free("127.0.0.1", port)
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server closes first: its side of the connection waits in TIME_WAIT
    client.close()
    listener.close()
    assert _port_free("127.0.0.1", port)


def test_the_local_server_refuses_an_authorization_header_not_of_the_bearer_form_as_unauthorized():
    """Review r35: the local server answers a bare key as API Gateway does with infra's identityValidationExpression
    (UNAUTHORIZED: the header's form), before the authorizer judges the key."""
    import json
    import urllib.error
    import urllib.request

    from chalice import AuthResponse

    app = Chalice("gateway-test")

    @app.authorizer()
    def judge(auth_request):
        return AuthResponse(routes=[], principal_id="anonymous")

    @app.route("/v1/things", authorizer=judge)
    def things():
        return {}

    server = make_server(app, Config(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.handle_request)
    thread.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server.server_port}/v1/things", headers={"Authorization": "a-bare-key"}
        )
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            status, problem = error.code, json.loads(error.read())
        thread.join()
    finally:
        server.server.server_close()
    assert status == 401 and problem["detail"] == "Send your API key as 'Authorization: Bearer <key>'."
