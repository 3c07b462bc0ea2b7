"""Each failed attempt of a queued message leaves a line naming its object and invoices (review r56, F1 and F2):
a partial batch failure is no Lambda error, so before the give-up that line is the on-call's only trace."""

from __future__ import annotations

import json

from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from json_logs import json_logs_fixture  # noqa: F401 - fixture

from chalicelib.config import settings
from chalicelib.services import layout, processing

DEPOSIT = auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"})


def _deposit(client, number: str) -> str:
    return json.loads(client.http.post("/v1/invoices", headers=DEPOSIT, body=ubl_invoice(number)).body)["id"]


def test_a_failed_validation_attempt_logs_a_warning_per_receive_and_the_give_up_once(client, pump, json_logs,
                                                                                      monkeypatch):  # fmt: skip
    poison = _deposit(client, "F-POISON")
    key = layout.original_key(poison)
    real_validator = processing.validate_en16931

    def validator_bug(data, *args, **kwargs):
        if b"F-POISON" in data:
            raise RuntimeError("validator bug")
        return real_validator(data, *args, **kwargs)

    monkeypatch.setattr(processing, "validate_en16931", validator_bug)
    last = settings().validation_max_receives
    for receive in range(1, last + 1):
        good = _deposit(client, f"F-GOOD-{receive}")  # succeeds in the same batch: no Lambda error
        json_logs.clear()
        assert pump.deliver_sqs_once("validate_invoices") == 2
        naming_poison = [r for r in json_logs.records() if r.get("object_key") == key]
        assert [(r["level"], r["invoice_ids"]) for r in naming_poison] == [
            ("ERROR" if receive == last else "WARNING", [poison])
        ]
        [line] = naming_poison
        assert "RuntimeError: validator bug" in line["exception"]
        if receive < last:
            assert line["receive_count"] == receive
        # the good invoice's line names its own object, not the poison's (keys do not leak between records)
        [processed] = [r for r in json_logs.records() if r.get("invoice_id") == good]
        assert processed["object_key"] == layout.original_key(good)
    json_logs.clear()
    pump.deliver_sqs_once("validate_invoices")
    assert all("object_key" not in r for r in json_logs.records())  # nothing carried into the next invocation
