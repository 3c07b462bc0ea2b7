"""Format routes: the JSON invoice schema, and the standard XML of any invoice (flows and uploads: flows_api)."""

from __future__ import annotations

from chalice import Response

from ..formats import json_invoice
from ..services import queries
from . import dependencies as deps
from .api import caller, route


@route("/v1/schemas/invoice.json", public=True)
def invoice_schema():
    return Response(
        body=json_invoice.SCHEMA_PATH.read_text(encoding="utf-8"),
        status_code=200,
        headers={"Content-Type": "application/schema+json", "Cache-Control": "public, max-age=3600"},
    )


@route("/v1/invoices/{invoice_id}/xml")
def get_invoice_xml(invoice_id: str):
    """The invoice as standard XML: the original when it is XML, else its rendition (Factur-X CII, UBL of JSON)."""
    url = queries.xml_download_url(caller(), invoice_id, invoices=deps.invoices(), originals=deps.originals())
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
