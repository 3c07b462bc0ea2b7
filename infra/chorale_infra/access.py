"""Least privilege, per Lambda function: what each one may do to which resource.

Keys are the chalice function's CloudFormation logical id (APIHandler for every route). Values name
resources by the app's environment variable. A function added to the app without an entry here gets
the app-wide data-plane policy (and a synth warning) so that it still works; add its line to tighten it.
Actions are listed explicitly: no wildcard action on a data resource.
"""

from __future__ import annotations

TABLE_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
OBJECT_READ = ("s3:GetObject",)
OBJECT_WRITE = ("s3:PutObject",)
OBJECT_DELETE = ("s3:DeleteObject",)  # level "rwd": a refused attachment upload is removed
# On a stage with Object Lock: writing a legal record with its retention, or locking one a client uploaded
# (level "rl": read and lock, for the inbox's presigned uploads)
OBJECT_RETAIN = ("s3:PutObjectRetention",)
BUCKET_LIST = ("s3:ListBucket",)  # so that a missing key is a 404, not a 403
QUEUE_SEND = ("sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes")
QUEUE_CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
TOPIC_PUBLISH = ("sns:Publish",)
# What a publisher needs of an encrypted topic's key: SNS asks KMS for a data key and decrypts it with the
# publisher's rights (docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "Configuring AWS KMS permissions":
# kms:GenerateDataKey* and kms:Decrypt; SNS's call is GenerateDataKey, named without the wildcard).
TOPIC_KEY_USE = ("kms:GenerateDataKey", "kms:Decrypt")
EMAIL_SEND = ("ses:SendEmail",)

# "r" read, "rw" read and write ("rwd" and delete, "rl" read and lock); objects are by key prefix;
# queues "send" (ENV:dlq for a queue's DLQ);
# topics "publish" (and the topic's KMS key: TOPIC_KEY_USE); email: ses:SendEmail from the stage's sender only.
FUNCTION_ACCESS: dict[str, dict] = {
    # Every route: deposits, queries, directory administration, API keys, subscriptions.
    "APIHandler": {
        "tables": {
            "INVOICE_TABLE": "rw",
            "NUMBER_TABLE": "rw",
            "IDEMPOTENCY_TABLE": "rw",
            "STRUCTURE_TABLE": "rw",
            "API_KEY_TABLE": "rw",
            "SUBSCRIPTION_TABLE": "rw",
            "DELIVERY_LOG_TABLE": "r",
            "FLOW_TABLE": "rw",
        },
        # downloads/: a bundled original copied out for its presigned download (services/queries.py)
        "objects": {
            "originals/": "rw",
            "renditions/": "rw",
            "inbox/": "rw",
            "attachments/": "rwd",  # a refused attachment (the copy of an upload) is deleted
            "uploads/attachments/": "rwd",  # presigned attachment uploads land here (services/lifecycle.py)
            "downloads/": "rw",
        },
        # POST /v1/subscriptions/{id}/test queues a test event for delivery.
        "queues": {"WEBHOOK_DELIVERY_QUEUE": "send"},
    },
    "ApiKeyAuthorizer": {"tables": {"API_KEY_TABLE": "r", "STRUCTURE_TABLE": "r"}},
    "ValidateInvoices": {
        # FLOW_TABLE: a flow's objects marked done; the last one announces the flow (flow.completed)
        # SUBSCRIPTION_TABLE: a publisher marks the events nobody subscribed to (services/publishing.py)
        "tables": {
            "INVOICE_TABLE": "rw",
            "NUMBER_TABLE": "rw",
            "STRUCTURE_TABLE": "r",
            "FLOW_TABLE": "rw",
            "SUBSCRIPTION_TABLE": "r",
        },
        # reads originals; re-derives and stores a missing rendition (services/intake.py)
        "objects": {"originals/": "r", "renditions/": "rw"},
        "topics": {"EVENTS_TOPIC_ARN": "publish"},
    },
    "PublishStatusEvents": {"tables": {"SUBSCRIPTION_TABLE": "r"}, "topics": {"EVENTS_TOPIC_ARN": "publish"}},
    "FanOutEvents": {
        # STRUCTURE_TABLE read: a deactivated structure's subscriptions get nothing (services/webhooks.jobs_for)
        "tables": {"SUBSCRIPTION_TABLE": "r", "STRUCTURE_TABLE": "r"},
        "queues": {"WEBHOOK_DELIVERY_QUEUE": "send"},
    },
    "DeliverWebhooks": {
        # STRUCTURE_TABLE read: a retry is not sent to a structure deactivated since (services/webhooks.deliver)
        "tables": {"SUBSCRIPTION_TABLE": "rw", "DELIVERY_LOG_TABLE": "rw", "STRUCTURE_TABLE": "r"},
        # Retries are re-sent with a delay; a job past its retry age is parked in the given-up queue by the code.
        "queues": {"WEBHOOK_DELIVERY_QUEUE": "send", "WEBHOOK_GIVEN_UP_QUEUE": "send"},
        "email": True,
    },
    # Bulk flows (issue #5).
    "ExpandInbox": {
        # INVOICE_TABLE read and the topic: a flow complete at expansion is announced (services/flows.py)
        # STRUCTURE_TABLE read: the depositor must still be an active supplier (services/flows.expand_inbox)
        "tables": {"FLOW_TABLE": "rw", "INVOICE_TABLE": "r", "SUBSCRIPTION_TABLE": "r", "STRUCTURE_TABLE": "r"},
        "objects": {"inbox/": "rl", "originals/": "rw", "renditions/": "rw"},
        "topics": {"EVENTS_TOPIC_ARN": "publish"},
    },
}
