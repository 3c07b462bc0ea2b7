"""Subscriptions to invoice events: who gets what (party + filters), and the retry schedule. Pure."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field, replace
from typing import Literal

from .directory import MAX_SERVICE_CODE_CHARACTERS, ROLES, Role
from .events import EVENT_TYPE, FLOW_EVENT_TYPE
from .invoice import has_visible_character
from .statuses import STATUSES

SubscriptionState = Literal["pending_confirmation", "active", "failing"]
Channel = Literal["webhook", "email"]

TEST_EVENT_TYPE = "chorale.subscription.test"
CONFIRMATION_EVENT_TYPE = "chorale.subscription.confirmation"  # the double opt-in mail, the only one sent before
CONFIRMATION_SECONDS = 7 * 24 * 3600
# An unconfirmed address is deleted (DynamoDB TTL) this long after its link expired: TTL never deletes early, the
# margin only keeps the item for a confirmation sent at the link's last second.
PENDING_PURGE_MARGIN_SECONDS = 3600
LAST_ERROR_CHARS = 500  # of a failing subscription's last delivery error
SUBSCRIBABLE_EVENT_TYPES: tuple[str, ...] = (EVENT_TYPE, FLOW_EVENT_TYPE)
MAX_SUBSCRIPTIONS_PER_STRUCTURE = 25
MAX_URL_LENGTH = 2048
# filter.service_codes: enough codes for a service's agents, each at most a directory code's length; a structure's
# up to 25 subscriptions are read at each of its events, so each stays a few KB.
MAX_FILTER_SERVICE_CODES = 100
SECRET_PREFIX = "whsec_"
# An ASCII dot-atom local part (RFC 5322 atext, dots between, SES sends to no other) and an ASCII (xn--) domain
# of DNS labels, the last one alphabetic (a top-level domain).
_ATEXT = r"[A-Za-z0-9!#$%&*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
_EMAIL = re.compile(rf"(?=[^@]{{1,64}}@){_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_TLD}")


class InvalidSubscription(ValueError):
    """A subscription request that cannot be accepted; the message says why."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    status_codes: tuple[int, ...] = ()  # empty: every status
    role: Role | None = None  # None: both roles the structure can have in an invoice
    # empty: every service; else only invoices the structure receives, routed to one of these services
    service_codes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "status_codes": list(self.status_codes) or None,
            "role": self.role,
            "service_codes": list(self.service_codes) or None,
        }


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    siret: str  # the owning structure: it only ever receives events of invoices it is a party to
    created_at: str
    url: str | None = None  # webhook channel
    email: str | None = None  # e-mail channel: the structure's contact address
    events: tuple[str, ...] = SUBSCRIBABLE_EVENT_TYPES
    filter: EventFilter = field(default_factory=EventFilter)
    secret: str | None = None  # webhook signing secret (HMAC needs it in clear at signing time)
    previous_secret: str | None = None  # still signs (second v1=) until previous_secret_expires
    previous_secret_expires: float | None = None  # unix time
    state: SubscriptionState = "active"
    failing_since: str | None = None  # the first failure since the subscription was last active
    last_error: str | None = None  # at most LAST_ERROR_CHARS
    # e-mail double opt-in: SHA-256 of the secret part of the link mailed to the address, and its expiry (unix time)
    confirmation_hash: str | None = None
    confirmation_expires: float | None = None
    # created with an Idempotency-Key: SHA-256 of its canonical request body, what a retry with that key must match
    request_sha256: str | None = None

    @property
    def channel(self) -> Channel:
        return "webhook" if self.url else "email"

    def signing_secrets(self, now: float) -> list[str]:
        """The secrets to sign with at `now`: the current one, and the previous one during its grace period."""
        secrets = [self.secret] if self.secret else []
        if self.previous_secret and self.previous_secret_expires and now < self.previous_secret_expires:
            secrets.append(self.previous_secret)
        return secrets

    def rotated(self, new_secret: str, now: float, grace_seconds: float) -> Subscription:
        return replace(
            self, secret=new_secret, previous_secret=self.secret, previous_secret_expires=now + grace_seconds
        )

    def previous_secret_lapsed(self, now: float) -> bool:
        """A previous secret past its grace period: it signs nothing any more, and must not stay at rest (it may
        have been rotated away because it leaked)."""
        return bool(self.previous_secret) and (
            self.previous_secret_expires is None or now > self.previous_secret_expires
        )

    def without_previous_secret(self) -> Subscription:
        return replace(self, previous_secret=None, previous_secret_expires=None)

    @property
    def pending(self) -> bool:
        """An e-mail address that has not confirmed yet: it gets the confirmation mail and nothing else."""
        return self.state == "pending_confirmation"

    def confirms(self, secret: str, now: float) -> bool:
        """True when `secret` is this subscription's confirmation secret and has not expired."""
        if not self.confirmation_hash or self.confirmation_expires is None or now >= self.confirmation_expires:
            return False
        return hmac.compare_digest(self.confirmation_hash, confirmation_hash(secret))

    def confirmed(self) -> Subscription:
        return replace(self, state="active")  # no longer pending: no purge_at, it is kept until deleted

    @property
    def purge_at(self) -> float | None:
        """When an unconfirmed address goes (unix time: the store's TTL): its link's expiry and a margin. None for
        any other subscription, kept until deleted."""
        if not self.pending or self.confirmation_expires is None:
            return None
        return self.confirmation_expires + PENDING_PURGE_MARGIN_SECONDS

    def lapsed(self, now: float) -> bool:
        """An unconfirmed address whose link has expired: it can never be confirmed, and waits for the TTL (which can
        lag up to 48 h) to delete it; listings and the subscription limit no longer count it."""
        return self.pending and self.confirmation_expires is not None and now >= self.confirmation_expires


# --- e-mail double opt-in ---------------------------------------------------------------------
# The link's token names the subscription (siret, id: the key it is stored under) and carries a secret of which
# only a hash is stored: whoever holds the mail can confirm, nobody else.


def confirmation_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def confirmation_token(siret: str, subscription_id: str, secret: str) -> str:
    return f"{siret}.{subscription_id}.{secret}"


def parse_confirmation_token(token: str) -> tuple[str, str, str] | None:
    """(siret, subscription id, secret), or None when the token cannot be one of ours."""
    parts = token.split(".") if isinstance(token, str) and len(token) <= 200 else []
    if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit():  # ASCII digits: a SIRET's
        return None
    if not parts[1].isalnum() or len(parts[2]) < 20:
        return None
    return parts[0], parts[1], parts[2]


# --- requests ---------------------------------------------------------------------------------


def parse_filter(raw, events: tuple[str, ...] = SUBSCRIBABLE_EVENT_TYPES) -> EventFilter:
    """The filter of a subscription to `events` (a service filter needs status changes: see matches)."""
    if raw is None:
        return EventFilter()
    if not isinstance(raw, dict):
        raise InvalidSubscription("'filter' must be an object")
    unknown = set(raw) - {"status_codes", "role", "service_codes"}
    if unknown:
        raise InvalidSubscription(f"unknown filter field(s): {', '.join(sorted(unknown))}")
    codes = raw.get("status_codes")
    if codes is None:  # every status
        codes = []
    # An empty list would read as "every status" (an empty filter, as None): one way to say it, like 'events'.
    elif (
        not isinstance(codes, list)
        or not codes
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes)
    ):
        raise InvalidSubscription(
            "'filter.status_codes' must be a non-empty list of status codes (integers); leave it out for every status"
        )
    unknown_codes = sorted(set(codes) - set(STATUSES))
    if unknown_codes:
        raise InvalidSubscription(f"unknown status code(s): {unknown_codes}; see the statuses in the API description")
    role = raw.get("role")
    if role is not None and role not in ROLES:
        raise InvalidSubscription(f"'filter.role' must be one of {list(ROLES)}")
    services = _parse_service_codes(raw.get("service_codes"))
    # It names the recipient's services: the supplier side and flow.completed have none, and would never match.
    if services and role == "supplier":
        raise InvalidSubscription("'filter.service_codes' names services of your structure as recipient: "
                                  "it cannot go with 'filter.role' supplier")  # fmt: skip
    if services and EVENT_TYPE not in events:
        raise InvalidSubscription(f"'filter.service_codes' only selects {EVENT_TYPE} events: add it to 'events'")
    return EventFilter(tuple(sorted(set(codes))), role, services)


def _parse_service_codes(raw) -> tuple[str, ...]:
    if raw is None:  # every service
        return ()
    # Stripped, as a deposit reads BT-10 and the directory stores a code: ' SERV-TECH ' is SERV-TECH.
    if (
        not isinstance(raw, list)
        or not 0 < len(raw) <= MAX_FILTER_SERVICE_CODES
        or not all(
            isinstance(c, str) and len(c) <= MAX_SERVICE_CODE_CHARACTERS and has_visible_character(c.strip())
            for c in raw
        )
    ):
        raise InvalidSubscription(
            f"'filter.service_codes' must be a non-empty list of at most {MAX_FILTER_SERVICE_CODES} service codes "
            f"(strings of at most {MAX_SERVICE_CODE_CHARACTERS} characters); leave it out for every service"
        )
    return tuple(sorted({c.strip() for c in raw}))


def parse_events(raw) -> tuple[str, ...]:
    if raw is None:
        return SUBSCRIBABLE_EVENT_TYPES
    if not isinstance(raw, list) or not raw or not all(isinstance(e, str) for e in raw):
        raise InvalidSubscription("'events' must be a non-empty list of event types")
    unknown = sorted(set(raw) - set(SUBSCRIBABLE_EVENT_TYPES))
    if unknown:
        raise InvalidSubscription(f"unknown event type(s) {unknown}; subscribable: {list(SUBSCRIBABLE_EVENT_TYPES)}")
    return tuple(sorted(set(raw)))


def parse_email(raw) -> str:
    if not isinstance(raw, str) or len(raw) > 254 or not _EMAIL.fullmatch(raw):
        raise InvalidSubscription(
            "'email' must be an e-mail address in ASCII (write an international domain name in its xn-- form)"
        )
    return raw


# --- who receives an event --------------------------------------------------------------------


def roles_in_event(siret: str, supplier_siret: str | None, recipient_siret: str | None) -> set[Role]:
    roles: set[Role] = set()
    if siret and siret == supplier_siret:
        roles.add("supplier")
    if siret and siret == recipient_siret:
        roles.add("recipient")
    return roles


def matches(subscription: Subscription, event: dict) -> bool:
    """True when `subscription` gets this CloudEvent: its structure is a party, and the filters let it through."""
    if subscription.pending or event.get("type") not in subscription.events:
        return False
    data = event.get("data") or {}
    roles = roles_in_event(
        subscription.siret, (data.get("supplier") or {}).get("siret"), (data.get("recipient") or {}).get("siret")
    )
    if not roles:
        return False  # never another structure's invoice, whatever the filters say
    wanted = subscription.filter
    if wanted.role and wanted.role not in roles:
        return False
    if wanted.service_codes and (
        "recipient" not in roles
        or event.get("type") != EVENT_TYPE
        or (data.get("recipient") or {}).get("service_code") not in wanted.service_codes
    ):
        return False  # the structure's own services, as recipient: not its invoices to others, nor its flows
    if event.get("type") != EVENT_TYPE:
        return True  # the status filter is about status changes (a flow's supplier gets its flow.completed)
    code = (data.get("status") or {}).get("code")
    return not wanted.status_codes or code in wanted.status_codes


def parties(event: dict) -> list[str]:
    """The SIRETs whose subscriptions may receive this event (each once)."""
    data = event.get("data") or {}
    sirets = [(data.get("supplier") or {}).get("siret"), (data.get("recipient") or {}).get("siret")]
    return list(dict.fromkeys(s for s in sirets if s))


# Message attribute of an event none of whose parties has a subscription: the fan-out queue's filter policy drops
# it at the topic, so the platform pays no queue request per event that nobody listens to. Marking the unheard
# (not the heard) keeps every event flowing if a publisher does not set it.
NO_SUBSCRIBER = ("subscribers", "none")


def sns_filter_policy(event_types: tuple[str, ...] = SUBSCRIBABLE_EVENT_TYPES) -> dict:
    """The SNS filter policy of the fan-out queue's subscription (attributes set by the event publisher)."""
    return {"event_type": list(event_types), NO_SUBSCRIBER[0]: [{"exists": False}]}


# --- retries ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Exponential backoff with jitter: attempt n (1-based) waits base·2^(n-1), capped, times U[1-jitter, 1]."""

    base_seconds: float = 1.0
    max_delay_seconds: float = 3600.0
    max_age_seconds: float = 86400.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed attempt `attempt` (1 = the first delivery); `rand` in [0, 1)."""
        nominal = min(self.max_delay_seconds, self.base_seconds * 2 ** min(attempt - 1, 62))
        return nominal * (1 - self.jitter * rand)

    def next_delay(self, attempt: int, first_attempt_at: float, now: float, rand: float) -> float | None:
        """The delay before the next attempt, or None when the next one would be past max_age (give up)."""
        delay = self.delay(attempt, rand)
        if now + delay - first_attempt_at > self.max_age_seconds:
            return None
        return delay

    def nominal(self) -> list[float]:
        """The delays without jitter until max age (documentation and tests)."""
        delays, elapsed, attempt = [], 0.0, 1
        while True:
            delay = min(self.max_delay_seconds, self.base_seconds * 2 ** min(attempt - 1, 62))
            if delay <= 0 or elapsed + delay > self.max_age_seconds:
                return delays
            delays.append(delay)
            elapsed += delay
            attempt += 1
