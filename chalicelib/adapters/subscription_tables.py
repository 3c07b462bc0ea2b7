"""PynamoDB tables of subscriptions, their delivery log and the local mail outbox (created by infra/the devstack).

Secrets are stored as they are, in a table encrypted at rest (DynamoDB SSE with KMS): HMAC signing needs
the secret in clear for every delivery, so a hash is impossible; application-level KMS encryption would
add a KMS call per delivery (or a cache holding the clear secret anyway) for no gain against the threat
that matters (someone reading the table holds the same IAM rights as the delivery function).
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..config import settings
from .aws import DynamoTimeouts

_settings = settings()


class SubscriptionRecord(Model):
    """One subscription, under its structure: a structure can only ever address its own."""

    class Meta(DynamoTimeouts):
        table_name = _settings.subscription_table
        region = _settings.region

    siret = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    created_at = UnicodeAttribute()
    url = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    events = ListAttribute(of=UnicodeAttribute)
    status_codes = ListAttribute(of=NumberAttribute, null=True)
    role = UnicodeAttribute(null=True)
    service_codes = ListAttribute(of=UnicodeAttribute, null=True)  # absent: every service
    secret = UnicodeAttribute(null=True)
    previous_secret = UnicodeAttribute(null=True)
    previous_secret_expires = NumberAttribute(null=True)
    state = UnicodeAttribute(default="active")
    failing_since = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    confirmation_hash = UnicodeAttribute(null=True)
    confirmation_expires = NumberAttribute(null=True)
    request_sha256 = UnicodeAttribute(null=True)  # a keyed create's request (see Subscription.request_sha256)
    # The table's TTL: an unconfirmed address's Subscription.purge_at (absent once confirmed), and the e-mail
    # confirmation markers' (written as plain numbers, subscription_store.claim_confirmation_mail)
    expires = TTLAttribute(null=True)


class DeliveryLogRecord(Model):
    """One delivery attempt; newest first per subscription; expires after DELIVERY_LOG_DAYS (TTL on `expires`)."""

    class Meta(DynamoTimeouts):
        table_name = _settings.delivery_log_table
        region = _settings.region

    subscription_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "<at>#<event id>#<attempt>"
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    attempt = NumberAttribute()
    at = UnicodeAttribute()
    outcome = UnicodeAttribute()
    status = NumberAttribute(null=True)
    latency_ms = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    next_attempt_in = NumberAttribute(null=True)
    expires = NumberAttribute()


class MailOutboxRecord(Model):
    """The local stack's outbox: e-mails are written here instead of being sent."""

    class Meta(DynamoTimeouts):
        table_name = _settings.mail_outbox_table
        region = _settings.region

    to = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "<at>#<random>"
    subject = UnicodeAttribute()
    text = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)


SUBSCRIPTION_TABLES: tuple[type[Model], ...] = (SubscriptionRecord, DeliveryLogRecord, MailOutboxRecord)
DELIVERY_LOG_DAYS = 30
