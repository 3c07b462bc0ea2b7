"""What the Chalice app needs from AWS, read from the app itself so infra cannot drift from the code.

Run in a subprocess (`python -m chorale_infra.introspect PROJECT_DIR`): it sets every resource-name
setting (fields of chalicelib.config.Settings ending in _table, _queue, _bucket, _topic_arn) to a
sentinel naming its environment variable, imports the PynamoDB models and the Chalice app, and prints
JSON: which env var each table model and each event source uses, the key schemas and GSIs, the stream
view types, TTL attributes, the Lambda functions, and the API gateway problem table.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

SENTINEL = "@@"
RESOURCE_SUFFIXES = ("_table", "_queue", "_bucket", "_topic_arn")


def _env_of(value: str | None) -> str | None:
    if value and SENTINEL in value:
        return value.split(SENTINEL, 1)[1].split("/", 1)[0].split(":", 1)[0]
    return None


def all_models(base) -> list:
    """Every PynamoDB model class the app defines (subclasses, recursively), one per table name."""
    seen, found, stack = set(), [], list(base.__subclasses__())
    while stack:
        model = stack.pop(0)
        stack.extend(model.__subclasses__())
        name = getattr(getattr(model, "Meta", None), "table_name", None)
        if name and name not in seen and model.__module__.startswith("chalicelib."):
            seen.add(name)
            found.append(model)
    return found


def _optional(module: str, attribute: str, default=None):
    try:
        return getattr(__import__(module, fromlist=[attribute]), attribute)
    except (ImportError, AttributeError):
        return default


def describe(project_dir: str) -> dict:
    sys.path.insert(0, project_dir)
    from chalicelib import config

    fields = [f for f in dataclasses.fields(config.Settings) if f.name.endswith(RESOURCE_SUFFIXES)]
    config.settings.cache_clear()
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        os.environ.setdefault(var, "eu-west-3")
    defaults = {f.name.upper(): getattr(config.settings(), f.name) for f in fields}
    for f in fields:
        os.environ[f.name.upper()] = f"{SENTINEL}{f.name.upper()}"
    config.settings.cache_clear()

    from pynamodb.attributes import TTLAttribute
    from pynamodb.models import Model

    import app as chalice_app  # the project's app.py: imports every adapter the functions use

    tables = []
    for model in all_models(Model):
        env = _env_of(model.Meta.table_name)
        if env is None:
            continue  # a model whose table name does not come from a setting (tests, local helpers)
        schema = model._get_schema()
        ttl = [attr.attr_name for attr in model.get_attributes().values() if isinstance(attr, TTLAttribute)]
        tables.append(
            {
                "env": env,
                "model": f"{model.__module__}.{model.__name__}",
                "key_schema": schema["key_schema"],
                "attribute_definitions": schema["attribute_definitions"],
                "global_secondary_indexes": schema["global_secondary_indexes"],
                "local_secondary_indexes": schema["local_secondary_indexes"],
                "stream_view_type": getattr(model.Meta, "stream_view_type", None),
                "ttl_attribute": ttl[0] if ttl else None,
            }
        )

    from chalice.app import DynamoDBEventConfig, S3EventConfig, SNSEventConfig, SQSEventConfig

    app = chalice_app.app
    sources = []
    for source in app.event_sources:
        entry = {"function": source.name, "kind": type(source).__name__}
        if isinstance(source, SQSEventConfig):
            entry.update(
                queue_env=_env_of(source.queue),
                batch_size=source.batch_size,
                batching_window=source.maximum_batching_window_in_seconds,
            )
        elif isinstance(source, DynamoDBEventConfig):
            # The stream ARN in code is a placeholder naming the table by its default name.
            table_name = source.stream_arn.split(":table/", 1)[1].split("/", 1)[0]
            env = _env_of(table_name) or next(
                (k for k, v in defaults.items() if k.endswith("_TABLE") and v == table_name), None
            )
            entry.update(
                table_env=env,
                batch_size=source.batch_size,
                starting_position=source.starting_position,
                placeholder=source.stream_arn,
            )
        elif isinstance(source, SNSEventConfig):
            entry.update(topic_env=_env_of(source.topic), topic=source.topic)
        elif isinstance(source, S3EventConfig):
            entry.update(bucket_env=_env_of(source.bucket))
        sources.append(entry)

    from chalicelib.entrypoints.problems import GATEWAY_PROBLEMS, PROBLEM_JSON, gateway_problem

    filter_policy = _optional("chalicelib.domain.subscriptions", "sns_filter_policy")
    return {
        "resource_settings": defaults,
        # How the local stack (devstack/resources.py, "the same locally") configures what the code can't say.
        "sns_filter_policies": {"WEBHOOK_EVENTS_QUEUE": filter_policy()} if filter_policy else {},
        # The validation and inbox queues' counts are app settings: infra/main.py reads them as the stage sets them.
        "max_receives": {
            "WEBHOOK_EVENTS_QUEUE": _optional("devstack.resources", "WEBHOOK_MAX_RECEIVES", 5),
            "WEBHOOK_DELIVERY_QUEUE": _optional("devstack.resources", "WEBHOOK_MAX_RECEIVES", 5),
        },
        "browser_cors_rule": _optional("devstack.resources", "BROWSER_CORS_RULE", None),
        # Object prefixes locked for the legal retention on a stage with Object Lock (adapters/object_store.py).
        "legal_record_prefixes": list(_optional("chalicelib.services.layout", "LEGAL_RECORD_PREFIXES", ())),
        "tables": tables,
        "event_sources": sources,
        "functions": sorted(app.handler_map),
        "routes": sorted(app.routes),
        "authorizers": sorted(a.name for a in app.builtin_auth_handlers),
        # API Gateway refuses an Authorization header of another form before the authorizer runs (401 UNAUTHORIZED)
        "bearer_header_pattern": _optional("chalicelib.services.authentication", "BEARER_HEADER_PATTERN", None),
        "problem_content_type": PROBLEM_JSON,
        "mail_sender": getattr(config.settings(), "mail_sender", "notifications@chorale.dev"),
        "gateway_problems": {kind: gateway_problem(kind)[1] for kind in GATEWAY_PROBLEMS},
    }


if __name__ == "__main__":
    print(json.dumps(describe(str(Path(sys.argv[1]).resolve())), indent=1))
