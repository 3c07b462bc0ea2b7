"""Who receives an event: only the invoice's parties, narrowed by role and status filters."""

from __future__ import annotations

import pytest
from webhook_support import FakeQueue, FakeStore, static_resolver

from chalicelib.domain.directory import Principal
from chalicelib.domain.subscriptions import (
    EventFilter,
    InvalidSubscription,
    Subscription,
    matches,
    parse_filter,
    parties,
    sns_filter_policy,
)
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.services import subscriptions as service
from chalicelib.services.errors import InvalidInput

SUPPLIER, RECIPIENT, OTHER = "81234567800013", "21750000100011", "13000123400017"


def event(code=203, supplier=SUPPLIER, recipient=RECIPIENT, kind="invoice.status_changed"):
    return {
        "type": kind,
        "id": "01JABCDEFGHJKMNPQRSTVWXYZ0-1",
        "data": {"supplier": {"siret": supplier}, "recipient": {"siret": recipient}, "status": {"code": code}},
    }


def sub(siret, **filters):
    return Subscription("01JABCDEFGHJKMNPQRSTVWXYZ0", siret, "t", url="https://x", filter=EventFilter(**filters))


def test_only_parties_receive_events_whatever_their_filters():
    assert matches(sub(SUPPLIER), event()) and matches(sub(RECIPIENT), event())
    assert not matches(sub(OTHER), event())
    assert not matches(sub(OTHER, role="supplier", status_codes=(203,)), event())
    assert not matches(sub(SUPPLIER), event(recipient=None, supplier=OTHER))


def test_role_and_status_filters_narrow():
    assert matches(sub(SUPPLIER, role="supplier"), event())
    assert not matches(sub(SUPPLIER, role="recipient"), event())
    assert matches(sub(RECIPIENT, role="recipient", status_codes=(203, 212)), event(212))
    assert not matches(sub(RECIPIENT, status_codes=(212,)), event(203))
    # a structure that is both supplier and recipient of the invoice matches either role
    assert matches(sub(SUPPLIER, role="recipient"), event(supplier=SUPPLIER, recipient=SUPPLIER))


def test_other_event_types_do_not_match_and_parties_are_listed_once():
    assert not matches(sub(SUPPLIER), event(kind="something.else"))
    assert parties(event()) == [SUPPLIER, RECIPIENT]
    assert parties(event(supplier=SUPPLIER, recipient=SUPPLIER)) == [SUPPLIER]
    assert parties(event(recipient=None)) == [SUPPLIER]


def test_filter_parsing_refuses_unknown_codes_roles_and_fields():
    assert parse_filter({"status_codes": [212, 203, 203], "role": "recipient"}) == EventFilter((203, 212), "recipient")
    for bad in ({"status_codes": [999]}, {"role": "auditor"}, {"colour": 1}, {"status_codes": "203"}, []):
        with pytest.raises(InvalidSubscription):
            parse_filter(bad)


@pytest.mark.parametrize("empty", [[], 0, False, "", {}])
def test_an_empty_status_filter_is_refused_not_read_as_every_status(empty):
    """Review r25: `[]`, 0, false, "" or {} were taken for "no filter", and the subscription fired on every status."""
    with pytest.raises(InvalidSubscription, match="non-empty list"):
        parse_filter({"status_codes": empty})
    assert parse_filter({"status_codes": None}) == parse_filter({}) == EventFilter()


def test_the_fan_out_queue_filter_policy_selects_the_event_types_someone_may_have_subscribed_to():
    assert sns_filter_policy() == {
        "event_type": ["invoice.status_changed", "flow.completed"],
        "subscribers": [{"exists": False}],  # events marked subscribers=none (no party subscribed) stay out
    }


def flow_completed(supplier=SUPPLIER):
    return {
        "type": "flow.completed",
        "id": "01JABCDEFGHJKMNPQRSTVWXYZ0-completed",
        "data": {"supplier": {"siret": supplier}},
    }


def test_a_flow_is_announced_to_its_supplier_only_whatever_the_status_filter():
    assert matches(sub(SUPPLIER), flow_completed()) and matches(sub(SUPPLIER, status_codes=(203,)), flow_completed())
    assert matches(sub(SUPPLIER, role="supplier"), flow_completed())
    assert not matches(sub(SUPPLIER, role="recipient"), flow_completed())
    assert not matches(sub(OTHER), flow_completed())
    assert parties(flow_completed()) == [SUPPLIER]
    only_status = Subscription("01JABCDEFGHJKMNPQRSTVWXYZ0", SUPPLIER, "t", url="https://x",
                               events=("invoice.status_changed",))  # fmt: skip
    assert not matches(only_status, flow_completed())


def test_a_flow_is_complete_once_expanded_with_every_object_done():
    from chalicelib.domain.flows import FlowProgress

    assert not FlowProgress("received").complete
    assert not FlowProgress("expanded", objects_total=None).complete  # written before the expansion ended
    assert not FlowProgress("expanded", objects_total=3, objects_done=2).complete
    assert FlowProgress("expanded", objects_total=3, objects_done=3).complete
    assert FlowProgress("expanded", objects_total=0).complete  # nothing to validate: every file refused
    assert FlowProgress("unreadable").complete


@pytest.mark.parametrize(
    "address, accepted",
    [("compta@mairie.fr", True), ("a.b+c@x.co.uk", True), ("x@xn--mairie-ze.fr", True), ("Compta@Mairie.fr", True),
     (".a@b.fr", False), ("a..b@b.fr", False), ("a.@b.fr", False), ("a@b.-fr", False), ("a@b.fr-", False),
     ("a@b.123", False), ("a@-b.fr", False), ("a@b", False), ("a" * 65 + "@b.fr", False),
     ("a\x00b@example.fr", False), ("compta@mairie.fr\n", False), ("élodie@mairie.fr", False)],
)  # fmt: skip
def test_e_mail_addresses_are_ascii_dot_atoms_at_dns_names(address, accepted):
    """Review findings: control characters, a trailing line feed, dots at the ends or doubled, labels starting
    or ending with '-' and numeric top-level domains were accepted."""
    from chalicelib.domain.subscriptions import InvalidSubscription, parse_email

    if accepted:
        assert parse_email(address) == address
    else:
        with pytest.raises(InvalidSubscription):
            parse_email(address)


def test_unknown_subscription_fields_are_a_400_listing_them_as_the_other_routes_do():
    body = {"url": "https://hooks.example.com/h", "code": 1, "comment": "x", **{f"f{n}": n for n in range(30)}}
    with pytest.raises(InvalidInput) as refused:
        service.create_subscription(
            Principal("81234567800013", "Atelier", ("supplier",)),
            body,
            store=FakeStore(),
            resolver=static_resolver({"hooks.example.com": ["93.184.216.34"]}),
            policy=UrlPolicy(),
            queue=FakeQueue(),
            confirmation_url=lambda token: token,
        )
    extra = refused.value.extra
    assert extra["unknown_fields"][:3] == ["code", "comment", "f0"] and len(extra["unknown_fields"]) == 20
    assert extra["unknown_fields_count"] == 32
