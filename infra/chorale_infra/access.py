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

# "r" read, "rw" read and write; objects are by key prefix; queues "send"; topics "publish".
FUNCTION_ACCESS: dict[str, dict[str, dict[str, str]]] = {
    "APIHandler": {
        "tables": {
            "INVOICE_TABLE": "rw",
            "NUMBER_TABLE": "rw",
            "IDEMPOTENCY_TABLE": "rw",
            "STRUCTURE_TABLE": "r",
            "API_KEY_TABLE": "r",
        },
        "objects": {"originals/": "rw", "uploads/": "rw"},
    },
    "ApiKeyAuthorizer": {"tables": {"API_KEY_TABLE": "r", "STRUCTURE_TABLE": "r"}},
    "ValidateInvoices": {
        "tables": {"INVOICE_TABLE": "rw", "NUMBER_TABLE": "rw", "STRUCTURE_TABLE": "r"},
        "objects": {"originals/": "r"},
    },
    "PublishStatusEvents": {"topics": {"EVENTS_TOPIC_ARN": "publish"}},
}
