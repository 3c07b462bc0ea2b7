"""A browser's POST of a file with a presigned ticket, checked as S3 checks it (moto checks no policy)."""

from __future__ import annotations

import base64
import json

import requests

EXEMPT = {"file", "policy", "x-amz-signature", "bucket"}  # the form fields a policy need not name


def policy_refusal(fields: dict[str, str], size: int) -> str | None:
    """Why S3 would refuse this form (None: it would take it). Every condition must hold for the fields sent (a
    field a condition names but the form lacks fails it), and every field sent must be named by a condition."""
    policy = json.loads(base64.b64decode(fields["policy"]))
    sent = {k.lower(): v for k, v in fields.items()}
    named = set()
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            [(name, expected)] = condition.items()
            op, name = "eq", name.lower()
        else:
            op, name, expected = condition[0], condition[1], condition[2]
            if op == "content-length-range":
                if not condition[1] <= size <= condition[2]:
                    return f"size {size} outside {condition[1:]}"
                continue
            name = name.lstrip("$").lower()
        named.add(name)
        if name == "bucket":
            continue
        if name not in sent:
            return f"Policy Condition failed: {condition} (no field {name})"
        if op == "eq" and sent[name] != expected or op == "starts-with" and not sent[name].startswith(expected):
            return f"Policy Condition failed: {condition}"
    extra = sorted(k for k in sent if k not in named and k not in EXEMPT and not k.startswith("x-ignore-"))
    return f"Extra input fields: {extra}" if extra else None


def post_file(ticket: dict, body: bytes, name: str = "file.bin", extra_fields: dict | None = None) -> None:
    """POST `fields` (and `extra_fields`), then the file, to the ticket's url, as S3 would take it or not."""
    fields = {**ticket["fields"], **(extra_fields or {})}
    refusal = policy_refusal(fields, len(body))
    assert refusal is None, f"S3 would refuse this upload: {refusal}"
    posted = requests.post(ticket["url"], data=fields, files={"file": (name, body)}, timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
