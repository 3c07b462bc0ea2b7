"""Paths the API hands out (Location headers, `links`, a problem's `instance`), as the client can follow them.

API Gateway's own address serves the API under its stage (`https://<id>.execute-api.<region>.amazonaws.com/api/`):
a root-relative `/v1/...` would drop `/api` there. A custom domain (base path mapping at its root) and the local
stack have no stage in their paths.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Path parameters that are credentials: a problem's `instance` keeps their template, never their value.
SECRET_PARAMETERS = frozenset({"token"})
_PARAMETER = re.compile(r"\{(\w+)\+?\}")


def stage_prefix(context: dict | None) -> str:
    """'/<stage>' when the request came through API Gateway's execute-api domain, else '' (custom domain,
    local stack)."""
    context = context or {}
    domain = context.get("domainName") or ""
    stage = context.get("stage") or ""
    if stage and domain.endswith(".amazonaws.com"):
        return f"/{stage}"
    return ""


def _current_request():
    from .api import api  # the blueprint shared by every route module

    try:
        return api.current_request
    except (AttributeError, RuntimeError):  # not registered on an app: no request
        return None


def api_path(path: str, request=None) -> str:
    """`path` (a root-relative API path such as /v1/invoices/<id>) as the client of `request` (by default the
    current one) follows it: with the stage prefix on the execute-api domain."""
    request = request if request is not None else _current_request()
    return stage_prefix(getattr(request, "context", None)) + path


def request_instance(request) -> str:
    """A problem's `instance`: the path of this request (its route with the actual parameters; no query
    string; secret parameters left as their template), as `api_path` gives it."""
    template = getattr(request, "path", None) or "/"
    params = getattr(request, "uri_params", None) or {}

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in SECRET_PARAMETERS or name not in params:
            return f"{{{name}}}"
        return quote(str(params[name]), safe="")

    return api_path(_PARAMETER.sub(value, template), request)
