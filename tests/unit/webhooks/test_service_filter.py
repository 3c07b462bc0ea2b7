"""filter.service_codes (review r43 F4): each service of a structure subscribes to its own invoices only."""

from __future__ import annotations

import pytest
from webhook_support import FakeQueue, FakeStore, static_resolver

from chalicelib.domain.directory import Principal
from chalicelib.domain.subscriptions import (
    MAX_FILTER_SERVICE_CODES,
    EventFilter,
    InvalidSubscription,
    Subscription,
    matches,
    parse_filter,
)
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.services import subscriptions as service
from chalicelib.services.errors import InvalidInput

SUPPLIER, RECIPIENT = "81234567800013", "21750000100011"


def event(service_code="SERV-TECH", code=203, supplier=SUPPLIER, recipient=RECIPIENT, kind="invoice.status_changed"):
    return {
        "type": kind,
        "id": "01JABCDEFGHJKMNPQRSTVWXYZ0-1",
        "data": {
            "supplier": {"siret": supplier},
            "recipient": {"siret": recipient, "service_code": service_code},
            "status": {"code": code},
        },
    }


def sub(siret, events=("invoice.status_changed", "flow.completed"), **filters):
    return Subscription("01JABCDEFGHJKMNPQRSTVWXYZ0", siret, "t", url="https://x", events=events,
                        filter=EventFilter(**filters))  # fmt: skip


def test_a_service_filter_lets_through_only_its_services_invoices():
    tech = sub(RECIPIENT, service_codes=("SERV-TECH",))
    assert matches(tech, event("SERV-TECH"))
    assert not matches(tech, event("SERV-ECOLES"))
    assert not matches(tech, event(None))  # no service code: no service filter matches it
    assert not matches(tech, event("serv-tech"))  # exact match
    assert matches(sub(RECIPIENT, service_codes=("SERV-ECOLES", "SERV-TECH")), event("SERV-ECOLES"))
    # with the other filters
    assert matches(sub(RECIPIENT, service_codes=("SERV-TECH",), status_codes=(203,), role="recipient"), event())
    assert not matches(sub(RECIPIENT, service_codes=("SERV-TECH",), status_codes=(212,)), event())


def test_a_service_filter_is_the_recipient_side_only():
    """The codes name the subscriber's own services: its invoices to another structure's service of the same code,
    and its flows (which have no service), are not sent to it."""
    both = sub(SUPPLIER, service_codes=("SERV-TECH",))
    assert not matches(both, event("SERV-TECH"))  # SUPPLIER sends it: not one of its services
    assert matches(both, event("SERV-TECH", supplier=SUPPLIER, recipient=SUPPLIER))  # it bills itself
    flow = {"type": "flow.completed", "id": "f-completed", "data": {"supplier": {"siret": SUPPLIER}}}
    assert matches(sub(SUPPLIER), flow) and not matches(both, flow)


def test_subscriptions_without_the_field_get_every_service_as_before():
    for code in ("SERV-TECH", "SERV-ECOLES", None):
        assert matches(sub(RECIPIENT), event(code))
    assert parse_filter({"status_codes": [203]}) == EventFilter((203,))
    assert parse_filter({"service_codes": None}) == EventFilter()
    assert EventFilter().as_dict() == {"status_codes": None, "role": None, "service_codes": None}


def test_service_codes_are_parsed_stripped_sorted_and_once():
    parsed = parse_filter({"service_codes": ["SERV-TECH", " SERV-ECOLES ", "SERV-TECH"], "role": "recipient"})
    assert parsed == EventFilter((), "recipient", ("SERV-ECOLES", "SERV-TECH"))
    assert parsed.as_dict()["service_codes"] == ["SERV-ECOLES", "SERV-TECH"]


@pytest.mark.parametrize(
    "bad",
    [[], "SERV-TECH", {"SERV-TECH": 1}, 0, False, [""], ["   "], ["\u200b"], [1], [None], ["x" * 101],
     ["S"] * (MAX_FILTER_SERVICE_CODES + 1)],
)  # fmt: skip
def test_bad_service_codes_are_refused(bad):
    with pytest.raises(InvalidSubscription, match="'filter.service_codes' must be a non-empty list"):
        parse_filter({"service_codes": bad})


def test_service_codes_that_could_never_match_are_refused():
    with pytest.raises(InvalidSubscription, match="role' supplier"):
        parse_filter({"service_codes": ["SERV-TECH"], "role": "supplier"})
    with pytest.raises(InvalidSubscription, match="add it to 'events'"):
        parse_filter({"service_codes": ["SERV-TECH"]}, ("flow.completed",))
    assert parse_filter({"service_codes": ["S"] * MAX_FILTER_SERVICE_CODES, "role": "recipient"}).service_codes == (
        "S",
    )


def create(body):
    return service.create_subscription(
        Principal(RECIPIENT, "Mairie", ("recipient",)),
        body,
        store=FakeStore(),
        resolver=static_resolver({"hooks.example.com": ["93.184.216.34"]}),
        policy=UrlPolicy(),
        queue=FakeQueue(),
        confirmation_url=lambda token: token,
    )


def test_the_create_use_case_keeps_the_service_filter_and_refuses_it_with_flows_only():
    made = create({"url": "https://hooks.example.com/", "filter": {"service_codes": ["SERV-ECOLES"]}})
    assert made.filter.service_codes == ("SERV-ECOLES",)
    with pytest.raises(InvalidInput, match="add it to 'events'"):
        create({"url": "https://hooks.example.com/", "events": ["flow.completed"],
                "filter": {"service_codes": ["SERV-ECOLES"]}})  # fmt: skip


@pytest.mark.parametrize("code, attribute", [("SERV-TECH", "SERV-TECH"), ("SERV-ÉCOLES", "SERV-ÉCOLES"),
                                             (None, None), ("SERV\x01TECH", None)])  # fmt: skip
def test_status_events_carry_the_service_code_as_a_message_attribute_for_topic_filter_policies(code, attribute):
    """As recipient_siret: a topic subscriber's own filter policy can select a service. A code SNS would refuse in
    an attribute (a control character: BT-10 is the document's text) is left out, and the event still goes."""
    from dataclasses import replace
    from datetime import date
    from decimal import Decimal

    from chalicelib.domain.events import new_status_events
    from chalicelib.domain.invoice import Invoice, InvoiceSummary, Totals

    invoice = Invoice("01J00000000000000000000000", SUPPLIER, "Atelier", "ubl", "application/xml", "originals/x", 10,
                      "ab", "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z")  # fmt: skip
    summary = InvoiceSummary(number="F-1", issue_date=date(2026, 11, 20), currency="EUR",
                             totals=Totals(*(Decimal(v) for v in ("100.00", "20.00", "120.00", "120.00"))),
                             seller_siret=SUPPLIER, buyer_siret=RECIPIENT)  # fmt: skip
    invoice.accept(replace(summary, service_code=code), "Mairie", [], "2026-11-26T10:00:01.000Z")
    for status_changed in new_status_events([], invoice):
        attributes = status_changed.attributes()
        assert attributes.get("recipient_service_code") == attribute
        assert attributes["recipient_siret"] == RECIPIENT
        assert status_changed.cloudevent()["data"]["recipient"]["service_code"] == code
