"""One Factur-X profile rule for every CII, deposited as XML or embedded in a PDF (review r5 §7). No AWS."""

from __future__ import annotations

import json

import pytest
from fakes import FakeObjectStore
from structured_invoices import cii_invoice, facturx_pdf, json_invoice, pdf_with_attachment

from chalicelib.formats import facturx
from chalicelib.services import intake, layout
from chalicelib.services.ports import StoredObject


def _source(body: bytes, fmt: str):
    store = FakeObjectStore()
    media = {"facturx": "application/pdf", "json": "application/json"}.get(fmt, "application/xml")
    prepared = intake.prepare(body, media)
    assert prepared.format == fmt
    if prepared.rendition is not None:
        intake.store_rendition(store, "X", prepared, {})
    return intake.validation_source("X", StoredObject(body, prepared.media, {layout.META_FORMAT: fmt}), store)


@pytest.mark.parametrize("profile", ["minimum", "basicwl", "basic", "en16931", "extended"])
def test_the_factur_x_profile_rule_is_the_same_for_a_cii_as_xml_and_in_a_pdf(profile):
    cii = cii_invoice(profile=profile)  # the same complete invoice; only the guideline differs
    as_xml, in_pdf = _source(cii, "cii"), _source(facturx_pdf(cii), "facturx")
    refusals = [s.refusal for s in (as_xml, in_pdf)]
    if profile in ("minimum", "basicwl"):
        assert [r.rule for r in refusals] == [facturx.PROFILE_RULE] * 2
        assert refusals[0].message == refusals[1].message
        message = refusals[0].message
        assert facturx.PROFILE_NAMES[profile] in message and "BT-24" in message
        assert "lines" not in message  # the document does carry its lines: the refusal is for what it declares
    else:
        assert refusals == [None, None]


def test_a_json_rendition_has_no_profile_rule():
    assert _source(json.dumps(json_invoice("J-1")).encode(), "json").refusal is None


@pytest.mark.parametrize(
    "guideline, profile",
    [
        ("\n  urn:factur-x.eu:1p0:minimum\n", "minimum"),  # pretty-printed: the engine reads BT-24 trimmed
        (" urn:factur-x.eu:1p0:basicwl ", "basicwl"),
        ("urn:factur-x.eu:1p0:MINIMUM", "minimum"),  # the level token in another letter case
        ("urn:factur-x.eu:1p0:BasicWL", "basicwl"),
        ("URN:FACTUR-X.EU:1P0:MINIMUM", "minimum"),
    ],
)
def test_whitespace_or_letter_case_in_the_guideline_does_not_bypass_the_profile_rule(guideline, profile):
    """Review r33 F2: the profile was read from the guideline untrimmed and case-sensitively, so these came out
    "unknown" and the document counted as a complete invoice (203)."""
    exact = f"<ram:ID>urn:factur-x.eu:1p0:{profile}</ram:ID>".encode()
    cii = cii_invoice(profile=profile).replace(exact, f"<ram:ID>{guideline}</ram:ID>".encode())
    assert exact not in cii
    pdf = pdf_with_attachment("factur-x.xml", cii)  # the factur-x library would not embed it: it reads the level
    refusals = [_source(cii, "cii").refusal, _source(pdf, "facturx").refusal]
    assert [r.rule for r in refusals] == [facturx.PROFILE_RULE] * 2
    assert facturx.PROFILE_NAMES[profile] in refusals[0].message
    assert facturx.extract(pdf).profile == profile
