"""Processing one deposited original in tests (production processes objects: processing.process_object)."""

from __future__ import annotations

import json

from chalicelib.domain.invoice import Invoice
from chalicelib.services.processing import process_object


def process_original(key: str, **ports) -> Invoice | None:
    """The invoice of a single original taken to its first status (None for a key that is not an original)."""
    processed = process_object(key, **ports)
    return processed.invoices[0] if processed.invoices else None


def deposit_processed_id(client, pump, body: bytes, content_type: str = "application/xml") -> str:
    """POST /v1/invoices as the demo supplier (chalice test client), then run the validation queue dry: the id."""
    from demo import SUPPLIER_KEY, auth

    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": content_type}), body=body)
    assert response.status_code == 202, response.body
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return json.loads(response.body)["id"]


def deposit_processed(client, pump, body: bytes, content_type: str = "application/xml") -> dict:
    """The invoice deposited and processed as deposit_processed_id does, as its supplier reads it."""
    from demo import SUPPLIER_KEY, auth

    invoice_id = deposit_processed_id(client, pump, body, content_type)
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)


def fail_validation_of(monkeypatch, marker: bytes) -> None:
    """Make the validator raise, as a bug would, for every document holding `marker`; the others validate as usual."""
    from chalicelib.services import processing

    real_validator = processing.validate_en16931

    def validator_bug(data, *args, **kwargs):
        if marker in data:
            raise RuntimeError("validator bug")
        return real_validator(data, *args, **kwargs)

    monkeypatch.setattr(processing, "validate_en16931", validator_bug)
