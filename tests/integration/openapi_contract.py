"""Every answer checked against the served OpenAPI document, as a generated client reads it (review r40): its status
and Content-Type documented, its body valid (JSON Schema 2020-12 with formats), integer headers integers; and every
JSON body the API accepted valid against the operation's request schema (a client's model must let it be sent)."""

from __future__ import annotations

import json
import re

from jsonschema import Draft202012Validator, FormatChecker


def _template(document: dict, path: str) -> str | None:
    """The documented path `path` matches, the most literal one first (/attachments/uploads before {id})."""
    path = path.split("?")[0]
    matches = [t for t in document["paths"] if re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$", path)]
    return min(matches, key=lambda t: t.count("{"), default=None)


def _validate(document: dict, schema: dict, value, where: str) -> list[str]:
    validator = Draft202012Validator({**schema, "components": document["components"]}, format_checker=FormatChecker())
    return [f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(value)]


def _media(headers: dict) -> str:
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    return (lower.get("content-type") or "").split(";")[0].strip()


class Recorder:
    """Wraps client.http: its answers (and the JSON bodies it sent that were accepted) are checked; `violations`."""

    def __init__(self, client):
        self.client = client
        self.document = json.loads(client.http.get("/openapi.json").body)
        self.violations: list[str] = []
        self.label = ""

    def request(self, method: str, path: str, **kw):
        response = getattr(self.client.http, method.lower())(path, **kw)
        self._check(method.lower(), path, kw, response)
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def _check(self, method: str, path: str, sent: dict, response) -> None:
        where = f"{self.label} {method.upper()} {path} -> {response.status_code}"
        template = _template(self.document, path)
        operation = self.document["paths"].get(template, {}).get(method) if template else None
        if operation is None:
            self.violations.append(f"{where}: operation not documented")
            return
        if response.status_code < 300 and _media(sent.get("headers")) == "application/json" and sent.get("body"):
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                self.violations.append(f"{where}: an accepted JSON body with no documented schema")
            elif not schema.get("$ref", "#").startswith("/"):  # the JSON invoice's schema is served apart
                self.violations += _validate(self.document, schema, json.loads(sent["body"]), f"{where} request")
        documented = operation["responses"].get(str(response.status_code))
        if documented is None:
            self.violations.append(f"{where}: status not documented (has {sorted(operation['responses'])})")
            return
        if "$ref" in documented:
            documented = self.document["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        for name, header in (documented.get("headers") or {}).items():
            value = response.headers.get(name)
            if value is not None and header.get("schema", {}).get("type") == "integer" and not value.isdigit():
                self.violations.append(f"{where}: header {name}={value!r} not an integer")
        content = documented.get("content")
        if not content:
            if response.body not in (b"", "", None):
                self.violations.append(f"{where}: a body, but no content documented")
            return
        media = _media(response.headers)
        if media not in content:
            self.violations.append(f"{where}: Content-Type {media!r} not among {sorted(content)}")
            return
        if schema := content[media].get("schema"):
            body = json.loads(response.body)
            self.violations += _validate(self.document, schema, body, where)
            if media == "application/problem+json":
                self.violations += _undeclared_members(self.document, body, where)


def _undeclared_members(document: dict, problem: dict, where: str) -> list[str]:
    """A problem's members the Problem schema does not declare: it stays open to members a newer server adds (a
    client ignores them), so the schema validation alone lets an undeclared one through; a client's model must
    have each member the API sends."""
    declared = document["components"]["schemas"]["Problem"]["properties"]
    return [
        f"{where}: problem member {name!r} not declared in the Problem schema"
        for name in problem
        if name not in declared
    ]
