"""Subscription use cases: a structure manages its own subscriptions, never another's."""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from ..domain.directory import Principal
from ..domain.events import FLOW_EVENT_TYPE
from ..domain.ids import derived_id, is_ulid, new_id
from ..domain.subscriptions import (
    CONFIRMATION_EVENT_TYPE,
    CONFIRMATION_SECONDS,
    MAX_SUBSCRIPTIONS_PER_STRUCTURE,
    SECRET_PREFIX,
    TEST_EVENT_TYPE,
    InvalidSubscription,
    Subscription,
    confirmation_hash,
    confirmation_token,
    parse_confirmation_token,
    parse_email,
    parse_events,
    parse_filter,
)
from ..domain.subscriptions_security import (
    UnsafeUrl,
    UrlPolicy,
    check_addresses,
    literal_addresses,
    not_public,
    parse_target,
)
from .clock import unix_of, utc_iso, utc_now
from .errors import (
    ConcurrentUpdate,
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    StillInProgress,
    TooManyRequests,
    Unprocessable,
    refuse_unknown_fields,
    request_sha256,
)
from .subscriptions_ports import DeliveryAttempt, DeliveryJob, DeliveryLog, DeliveryQueue, Resolver, SubscriptionStore

log = logging.getLogger(__name__)

ROTATION_GRACE_SECONDS = 24 * 3600  # the previous secret still signs for a day after a rotation
REPLAYED_SECRET_SECONDS = 24 * 3600  # a keyed create's retry gets the webhook's secret again for a day
ROTATION_ATTEMPTS = 3  # a rotation that lost the race to another reads and rotates again, this many times in all
# One confirmation mail per address and structure a day, and a few per address a day whoever asks: creating and
# deleting e-mail subscriptions in a loop cannot make Chorale mail a stranger over and over, and one structure
# cannot keep another from subscribing an address by asking first every day.
CONFIRMATION_MAIL_WINDOW_SECONDS = 24 * 3600
CONFIRMATION_MAILS_PER_ADDRESS = 3  # a UTC day
# A keyed create refused by its own key's mail claim, younger than a request can run (API Gateway gives up at 29 s),
# whose subscription is not stored yet, is taken as the key's attempt still running.
CREATE_IN_PROGRESS_SECONDS = 30


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def checked_url(url, resolver: Resolver, policy: UrlPolicy) -> list[str]:
    """The addresses a webhook URL may be called at; UnsafeUrl when any rule refuses it."""
    target = parse_target(url, policy)
    addresses = literal_addresses(target)
    if addresses is None:
        try:
            addresses = resolver(target.host, target.port)
        except (OSError, UnicodeError) as error:  # UnicodeError: a name the resolver cannot encode
            reason = getattr(error, "strerror", None) or error
            raise not_public(target.host, f"{target.host} does not resolve ({reason})") from None
    return check_addresses(target, addresses, policy)


SUBSCRIPTION_FIELDS = ("url", "email", "events", "filter")


def create_subscription(
    principal: Principal,
    body,
    *,
    store: SubscriptionStore,
    resolver: Resolver,
    policy: UrlPolicy,
    queue: DeliveryQueue,
    confirmation_url: Callable[[str], str],
    idempotency_key: str | None = None,
    now: Callable[[], str] = utc_now,
    clock: Callable[[], float] = time.time,
    make_secret: Callable[[], str] = new_secret,
    make_confirmation_secret: Callable[[], str] = lambda: secrets.token_urlsafe(32),
) -> Subscription:
    """A new subscription; for a webhook, the returned subscription carries the secret (shown this once).

    An e-mail address is written down pending confirmation (double opt-in): it is mailed a link to confirm
    (`confirmation_url(token)`) and gets nothing else until it does, so no one can have Chorale mail a stranger.

    With an `idempotency_key`, the id is derived from (structure, key) and written only if free: a retry with the
    same body answers the subscription the key created as it is now (a webhook's secret included: the first answer
    may never have reached the client), and neither counts against the limit nor mails the address again; another
    body under the key is refused (409). A keyed subscription deleted since is created anew by its key."""
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    # a 400 as documented since the first release, with the other routes' unknown_fields
    refuse_unknown_fields(body, SUBSCRIPTION_FIELDS, "a subscription", InvalidInput)
    url, email = body.get("url"), body.get("email")
    if (url is None) == (email is None):
        raise InvalidInput("Give either 'url' (a webhook) or 'email' (notifications to a contact address).")
    try:
        events = parse_events(body.get("events"))
        if body.get("events") is None and not principal.has_role("supplier"):
            events = tuple(e for e in events if e != FLOW_EVENT_TYPE)  # by default, only what it can receive
        event_filter = parse_filter(body.get("filter"), events)
        email = parse_email(email) if email is not None else None
    except InvalidSubscription as error:
        raise InvalidInput(str(error)) from None
    # the body as sent, not the subscription made of it (whose default events depend on the caller's roles)
    digest = request_sha256(body) if idempotency_key else None
    subscription_id = derived_id("subscription", principal.siret, idempotency_key) if idempotency_key else new_id()
    # a replay is answered before the URL check, the limit and the mail claim: nothing new is done
    if idempotency_key and (existing := store.get(principal.siret, subscription_id)) is not None:
        return _replay(existing, digest, clock())
    if url is not None:
        try:
            checked_url(url, resolver, policy)
        except UnsafeUrl as error:
            log.info("webhook URL refused for %s: %s", principal.siret, error.detail)  # what it resolves to: logs only
            raise Unprocessable(f"Webhook URL refused: {error}.", reason="unsafe_url") from None
    if len(current_subscriptions(store, principal.siret, clock())) >= MAX_SUBSCRIPTIONS_PER_STRUCTURE:
        raise Conflict(f"A structure has at most {MAX_SUBSCRIPTIONS_PER_STRUCTURE} subscriptions; delete one first.")
    subscription = Subscription(
        id=subscription_id,
        siret=principal.siret,
        created_at=now(),
        url=url,
        email=email,
        events=events,
        filter=event_filter,
        secret=make_secret() if url is not None else None,
        request_sha256=digest,
    )
    if email is None:
        if not idempotency_key:
            _add_or_undo(store, subscription)
            return subscription
        # Not undone when it fails: a write that landed is what the retry with this key answers, secret included.
        existing = store.add(subscription)
        return subscription if existing is None else _replay(existing, digest, clock())
    secret, at = make_confirmation_secret(), clock()
    try:
        refused = store.claim_confirmation_mail(
            email,
            principal.siret,
            at,
            CONFIRMATION_MAIL_WINDOW_SECONDS,
            CONFIRMATION_MAILS_PER_ADDRESS,
            claimed_by=subscription_id if idempotency_key else None,  # whose claim it is, for the 409 below
        )
    except Exception:
        _release_claim(store, email, principal.siret, at)  # a claim whose answer was lost may have landed
        raise
    # The key's first attempt may have claimed the mail a moment ago (a client that timed out and retried).
    if refused is not None and idempotency_key and (existing := store.get(principal.siret, subscription_id)):
        return _replay(existing, digest, clock())
    # Claimed a moment ago by this key, not stored yet: the key's first attempt, still running (its answer lost on
    # the way to a client that retried). Answered as any keyed request in flight; past a request's time, the 429
    # below. Another key's or a keyless claim (or one noted before claims named their key) is the 429 at once:
    # retrying it would never answer a subscription (review r53 §3).
    if (
        refused is not None
        and refused.reason == "structure"
        and idempotency_key
        and refused.claimed_by == subscription_id
        and at - refused.claimed_at < CREATE_IN_PROGRESS_SECONDS
    ):
        raise StillInProgress(
            f"A subscription of {email} for this structure was requested a moment ago with this Idempotency-Key and "
            "is still being processed: retry shortly with the same key."
        )
    # True whether that earlier request was mailed or not (the address's quota): nothing tells which (review r44 F4).
    if refused is not None and refused.reason == "structure":
        raise TooManyRequests(
            f"A confirmation was requested for {email} for this structure within the last 24 hours; a link mailed "
            "for it stays valid 7 days. If its owner did not receive it, ask again after Retry-After.",
            # what is left of that request's window, not its full length (review r45 L1)
            retry_after_seconds=max(1, math.ceil(refused.claimed_at + CONFIRMATION_MAIL_WINDOW_SECONDS - at)),
        )
    # The address got its confirmation mails for the day, asked by other structures: answered as usual, no mail sent.
    # A refusal would tell this structure that others subscribed the address (review r41); the address is still
    # mailed at most CONFIRMATION_MAILS_PER_ADDRESS a day. Unconfirmed, the subscription lapses with its link.
    mail = refused is None
    if not mail:
        log.info("confirmation of subscription %s of %s not mailed: its address's daily quota is used",
                 subscription_id, principal.siret)  # fmt: skip
    subscription = replace(subscription, state="pending_confirmation", confirmation_hash=confirmation_hash(secret),
                           confirmation_expires=at + CONFIRMATION_SECONDS)  # fmt: skip
    link = confirmation_url(confirmation_token(subscription.siret, subscription.id, secret))
    event = make_confirmation_event(subscription, principal.name, link, subscription.created_at)
    try:
        existing = store.add(subscription)
        if existing is None and mail:
            queue.enqueue([DeliveryJob(subscription.id, subscription.siret, event, 1, at)])
    except Exception:
        # Once the subscription is gone no mail can go out (a job queued after all finds no subscription), so the
        # claim must not count against the address nor refuse the client's retry. While it may remain, it stands.
        if _delete_quietly(store, subscription):  # never a pending subscription that nobody mails
            _release_claim(store, email, principal.siret, at)
        raise
    if existing is not None:  # the key's other attempt stored it first: this claim mails nothing
        _release_claim(store, email, principal.siret, at)
        return _replay(existing, digest, clock())
    return subscription


def _replay(existing: Subscription, digest: str | None, now: float) -> Subscription:
    """The subscription an Idempotency-Key already made, answered again; IdempotencyKeyReused when the key made
    it for another body. A webhook's secret comes with it only while a retry of the create is plausible: within
    REPLAYED_SECRET_SECONDS of its creation and before any rotation (a key is no second way to read a secret)."""
    if digest is None or existing.request_sha256 != digest:
        raise IdempotencyKeyReused()
    if existing.secret and (
        existing.previous_secret is not None or now - unix_of(existing.created_at) > REPLAYED_SECRET_SECONDS
    ):
        return replace(existing, secret=None)
    return existing


def _add_or_undo(store: SubscriptionStore, subscription: Subscription) -> None:
    """Create the subscription, or make sure it does not exist: a write that failed may still have landed (its
    answer lost), and a client told it failed would never see that subscription's secret."""
    try:
        store.add(subscription)
    except Exception:
        _delete_quietly(store, subscription)
        raise


def _delete_quietly(store: SubscriptionStore, subscription: Subscription) -> bool:
    """Whether the subscription is gone (or never was)."""
    try:
        store.delete(subscription.siret, subscription.id)
    except Exception:  # noqa: BLE001 - the caller raises the original failure
        log.exception("could not delete subscription %s of %s after a failed create; delete it by hand",
                      subscription.id, subscription.siret)  # fmt: skip
        return False
    return True


def _release_claim(store: SubscriptionStore, email: str, siret: str, at: float) -> None:
    try:
        store.release_confirmation_mail(email, siret, at)
    except Exception:  # noqa: BLE001 - the caller raises the original failure; the claim expires in 24 h
        log.exception("could not release the confirmation-mail claim of %s at %s", siret, at)


def make_confirmation_event(subscription: Subscription, structure_name: str, link: str, at: str) -> dict:
    return {
        "specversion": "1.0",
        "id": f"confirm-{new_id()}",
        "source": "urn:chorale:subscriptions",
        "type": CONFIRMATION_EVENT_TYPE,
        "time": at,
        "subject": subscription.id,
        "datacontenttype": "application/json",
        "data": {
            "subscription_id": subscription.id,
            "siret": subscription.siret,
            "structure_name": structure_name,
            "email": subscription.email,
            "confirmation_url": link,
            "flows": FLOW_EVENT_TYPE in subscription.events,
            "expires_at": utc_iso(subscription.confirmation_expires or 0),
        },
    }


def subscription_to_confirm(token: str, *, store: SubscriptionStore, clock: Callable[[], float] = time.time):
    """The subscription a confirmation link is for (pending or already confirmed); NotFound for any bad link."""
    parsed = parse_confirmation_token(token)
    subscription = store.get(parsed[0], parsed[1]) if parsed and is_ulid(parsed[1]) else None
    if subscription is None or not subscription.confirms(parsed[2], clock()):
        raise NotFound(
            "This confirmation link is unknown or has expired: ask for the subscription to be created again."
        )
    return subscription


def confirm_subscription(token: str, *, store: SubscriptionStore, directory, clock: Callable[[], float] = time.time):
    """The address's owner confirms: from now on the subscription gets its events. Confirming again is harmless.
    Not for an inactive structure (`directory`: services.ports.Directory), which gets no notification."""
    subscription = subscription_to_confirm(token, store=store, clock=clock)
    structure = directory.structure(subscription.siret)
    if structure is None or not structure.active:
        raise Conflict(
            f"The structure {subscription.siret} is not active on Chorale: it sends no notifications, so this "
            "subscription cannot be confirmed now. Nothing was changed; the link works again if it is reactivated "
            "before the link expires."
        )
    if not subscription.pending:
        return subscription
    confirmed = subscription.confirmed()
    store.save(confirmed)
    return confirmed


def current_subscriptions(store: SubscriptionStore, siret: str, now: float) -> list[Subscription]:
    """The structure's subscriptions, by id, but the unconfirmed addresses whose link has expired: those can never
    be confirmed and are deleted by the table's TTL, which can lag up to 48 h."""
    return sorted((s for s in store.for_structure(siret) if not s.lapsed(now)), key=lambda s: s.id)


def list_subscriptions(
    principal: Principal, *, store: SubscriptionStore, clock: Callable[[], float] = time.time
) -> list[Subscription]:
    return current_subscriptions(store, principal.siret, clock())


def own_subscription(principal: Principal, subscription_id: str, *, store: SubscriptionStore) -> Subscription:
    """The caller's subscription; NotFound for an unknown id and for another structure's (no existence oracle)."""
    found = store.get(principal.siret, subscription_id) if is_ulid(subscription_id) else None
    if found is None:
        raise NotFound(f"No subscription {subscription_id}.")
    return found


def delete_subscription(principal: Principal, subscription_id: str, *, store: SubscriptionStore) -> None:
    own_subscription(principal, subscription_id, store=store)
    store.delete(principal.siret, subscription_id)


def rotate_secret(
    principal: Principal,
    subscription_id: str,
    *,
    store: SubscriptionStore,
    clock: Callable[[], float] = time.time,
    make_secret: Callable[[], str] = new_secret,
) -> Subscription:
    """A new signing secret, the one replaced signing too for ROTATION_GRACE_SECONDS. Rotations at once take
    effect one after the other, as if sent in turn: a rotation that finds the secret changed since it read it
    rotates again from the new one, so every secret answered is kept (the last current, the one before previous)."""
    for _ in range(ROTATION_ATTEMPTS):
        subscription = own_subscription(principal, subscription_id, store=store)
        if subscription.channel != "webhook":
            raise Conflict("Only webhook subscriptions have a signing secret.")
        rotated = subscription.rotated(make_secret(), clock(), ROTATION_GRACE_SECONDS)
        if store.save_rotation(rotated, subscription.secret):
            return rotated
    raise ConcurrentUpdate(
        f"The secret of subscription {subscription_id} is being rotated by other requests right now: rotate "
        "again in a moment."
    )


def make_test_event(subscription: Subscription, at: str) -> dict:
    event_id = f"test-{new_id()}"
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:chorale:subscriptions",
        "type": TEST_EVENT_TYPE,
        "time": at,
        "subject": subscription.id,
        "datacontenttype": "application/json",
        "data": {"subscription_id": subscription.id, "siret": subscription.siret, "message": "Test event from Chorale"},
    }


def send_test_event(
    principal: Principal,
    subscription_id: str,
    *,
    store: SubscriptionStore,
    queue: DeliveryQueue,
    now: Callable[[], str] = utc_now,
    clock: Callable[[], float] = time.time,
) -> dict:
    """Queue a test event for this subscription (same path as real events: signature, retries, delivery log)."""
    subscription = own_subscription(principal, subscription_id, store=store)
    if subscription.pending:
        raise Conflict(
            f"The address {subscription.email} has not confirmed the subscription yet: nothing is sent to it."
        )
    event = make_test_event(subscription, now())
    queue.enqueue([DeliveryJob(subscription.id, subscription.siret, event, 1, clock())])
    return event


def recent_deliveries(
    principal: Principal, subscription_id: str, *, store: SubscriptionStore, log: DeliveryLog, limit: int = 50
) -> list[DeliveryAttempt]:
    own_subscription(principal, subscription_id, store=store)
    return log.recent(subscription_id, limit)
