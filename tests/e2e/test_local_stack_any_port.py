"""`make run PORT=0` (review r35): the stack takes a free port, and the links it mails and publishes carry that
port, not 0."""

from __future__ import annotations

import json

from conftest import DEMO_SEED, start_local_stack, stop_local_stack
from test_webhooks import MAIRIE_KEY, confirmation_link

ADDRESS = "compta@mairie.example.fr"


def test_port_0_links_point_at_the_port_bound(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(DEMO_SEED.read_text(encoding="utf-8"), encoding="utf-8")
    stack = start_local_stack(seed, port=0)
    try:
        assert not stack.base_url.endswith(":0")
        body = json.dumps({"email": ADDRESS}).encode()
        mail = stack.request("POST", "/v1/subscriptions", MAIRIE_KEY, body, {"Content-Type": "application/json"})
        assert mail.status == 201, mail.body
        link = stack.wait_for(lambda: confirmation_link(stack, ADDRESS), timeout=20)
        assert link.startswith(stack.base_url + "/v1/subscription-confirmations/")
        assert stack.request("GET", link.removeprefix(stack.base_url)).status == 200
    finally:
        assert stop_local_stack(stack) == 0
