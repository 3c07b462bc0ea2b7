"""What the subscription and webhook use cases need from the outside world (AWS adapters, HTTP, fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, Protocol

from ..domain.subscriptions import Subscription
from ..domain.subscriptions_security import Target


class MailClaimRefused(NamedTuple):
    """Why a confirmation mail was not claimed ("structure" or "address"), and when the structure's marker for the
    address was written: its window, hence a 429's Retry-After, runs from then. `claimed_by`: the subscription id
    the marker's request was creating under its Idempotency-Key (None: keyless, or a marker noted before r53)."""

    reason: str
    claimed_at: float
    claimed_by: str | None = None


# host, port → every address the name resolves to (socket.getaddrinfo in production, a dict in tests)
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """One event for one subscription, travelling through the delivery queue until it is delivered or given up."""

    subscription_id: str
    siret: str
    event: dict
    attempt: int = 1  # the attempt this message is for (1 = first delivery)
    first_attempt_at: float = 0.0  # unix time the event was first queued for this subscription
    not_before: float = 0.0  # unix time: a delay longer than the queue allows is served in steps

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> DeliveryJob:
        return cls(
            subscription_id=str(raw["subscription_id"]),
            siret=str(raw["siret"]),
            event=dict(raw["event"]),
            attempt=int(raw.get("attempt", 1)),
            first_attempt_at=float(raw.get("first_attempt_at", 0.0)),
            not_before=float(raw.get("not_before", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    subscription_id: str
    event_id: str
    event_type: str
    attempt: int
    at: str  # ISO 8601 UTC
    outcome: str  # delivered | retrying | failed (given up, in the given-up queue) | refused (SSRF) …
    status: int | None = None  # HTTP status, when there was a response
    latency_ms: float | None = None
    error: str | None = None
    next_attempt_in: float | None = None  # seconds, when retrying


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int | None
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


class SubscriptionStore(Protocol):
    def add(self, subscription: Subscription) -> Subscription | None:
        """Create the subscription if its id is free: None once written (a write that landed but whose answer was
        lost counts as done), or the subscription another write already stored under that id (only a derived id,
        an Idempotency-Key's, can be taken)."""

    def get(self, siret: str, subscription_id: str) -> Subscription | None: ...

    def for_structure(self, siret: str) -> list[Subscription]: ...

    def has_subscriptions(self, siret: str) -> bool:
        """Whether the structure has any subscription (whatever its state): one key read, not the list."""

    def save(self, subscription: Subscription) -> None:
        """Write the subscription back (it must still exist)."""

    def save_rotation(self, rotated: Subscription, replaced_secret: str) -> bool:
        """Write only `rotated`'s secret, previous secret and its expiry, if the stored secret is still
        `replaced_secret`; False when it is not (rotated meanwhile) or the subscription is gone."""

    def mark_failing(self, siret: str, subscription_id: str, at: str, error: str) -> None:
        """Set the failing state only (never clobbers a concurrent secret rotation)."""

    def mark_active(self, siret: str, subscription_id: str) -> None: ...

    def delete(self, siret: str, subscription_id: str) -> bool: ...

    def claim_confirmation_mail(
        self,
        email: str,
        siret: str,
        now: float,
        window_seconds: float,
        per_address: int,
        claimed_by: str | None = None,
    ) -> MailClaimRefused | None:
        """None (and noted) when `siret` had no confirmation mailed to this address within the window and the
        address got fewer than `per_address` this UTC day; else "structure" or "address", whichever refused. An
        "address" refusal is noted for `siret` all the same: its next request within the window is refused as
        "structure", exactly as if the mail had gone (nothing tells it that others asked). `claimed_by` is noted
        with the claim and a "structure" refusal carries the refusing claim's."""

    def release_confirmation_mail(self, email: str, siret: str, sent_at: float) -> bool:
        """Undo what the claim made at `sent_at` wrote, if it landed (its mail was not queued); True if it did."""


class DeliveryLog(Protocol):
    def record(self, attempt: DeliveryAttempt) -> None: ...

    def recent(self, subscription_id: str, limit: int) -> list[DeliveryAttempt]: ...

    def claim_mail(self, subscription_id: str, event_id: str, chain: float, attempt: int) -> bool:
        """Note that the event is being mailed to the subscription: False when it was already, by another job
        (a replay, a redriven fan-out) within the delivery log's days. `chain` (the job's first_attempt_at) and
        `attempt` let the same job's redelivery, or its next attempt, claim again: a failed send is retried."""

    def release_mail(self, subscription_id: str, event_id: str, chain: float) -> None:
        """Forget the chain's claim (it gave up without sending), so that a redriven job can mail the event."""


class DeliveryQueue(Protocol):
    def enqueue(self, jobs: list[DeliveryJob], delay_seconds: float = 0.0) -> None: ...

    def dead_letter(self, job: DeliveryJob, reason: str) -> None: ...


class WebhookSender(Protocol):
    def post(self, target: Target, address: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpResult:
        """POST `body` to `target`, connecting to `address` (already checked), never following redirects."""


class Mailer(Protocol):
    def send(self, message: MailMessage) -> None: ...
