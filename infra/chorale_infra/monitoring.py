"""Alarms (DLQ not empty, Lambda errors and throttles, oldest message age, stream lag, webhook deliveries given up,
API 5XX) and one dashboard."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

FIVE_MINUTES = Duration.minutes(5)
# The app's own metrics (Powertools EMF: chalicelib/entrypoints/observability.py), with their default dimension
APP_NAMESPACE = "Chorale"


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, stack) -> None:
        super().__init__(scope, construct_id)
        stage = stack.stage
        self.alarm_topic = sns.Topic(self, "AlarmTopic", topic_name=f"{stack.prefix}-alarms", enforce_ssl=True)
        # enforce_ssl writes the topic's policy, which replaces SNS's default one: CloudWatch must be let in, or
        # no alarm is ever delivered. Only this account's alarms.
        alarms_arn = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": alarms_arn},
                },
            )
        )
        if stage.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(stage.alarm_email))
        action = cw_actions.SnsAction(self.alarm_topic)
        self.alarms: list[cw.Alarm] = []

        def alarm(
            alarm_id: str, metric: cw.IMetric, threshold: float, description: str, evaluation_periods: int = 1
        ) -> cw.Alarm:
            created = metric.create_alarm(
                self,
                alarm_id,
                alarm_name=f"{stack.prefix}-{alarm_id}",
                alarm_description=description,
                threshold=threshold,
                evaluation_periods=evaluation_periods,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(action)
            created.add_ok_action(action)
            self.alarms.append(created)
            return created

        alarm(
            "EventsUnsendable",
            cw.Metric(
                namespace=APP_NAMESPACE,
                metric_name="EventsUnsendable",
                dimensions_map={"service": stage.service_name},
                statistic="Sum",
                period=FIVE_MINUTES,
            ),  # fmt: skip
            0,
            "A status event SNS could not take even trimmed was skipped: its parties were not told (see the runbook).",
        )
        queue_widgets, lambda_widgets = [], []
        for env, dlq in stack.dlqs.items():
            # "VALIDATION_QUEUE" → ValidationQueue; a stream's failure queue is keyed by its (CamelCase) logical id
            name = env.title().replace("_", "") if "_" in env else env
            alarm(
                f"{name}DlqNotEmpty",
                dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                0,
                f"Messages in {dlq.node.id}: they failed every retry. Inspect, fix, then redrive (docs/operations.md).",
            )
        for env, queue in stack.queues.items():
            name = env.title().replace("_", "")
            age = queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1), statistic="Maximum")
            # A message failed once comes back after the visibility timeout: one ordinary retry is no backlog.
            behind = stack.visibility_seconds[env] + stage.oldest_message_alarm_seconds
            alarm(
                f"{name}OldestMessage",
                age,
                behind,
                f"{queue.node.id} falls behind: oldest message older than {behind} s (a retry's wait, "
                f"{stack.visibility_seconds[env]} s, plus {stage.oldest_message_alarm_seconds} s).",
            )
            queue_widgets.append(
                cw.GraphWidget(
                    title=f"{env}: depth and age",
                    left=[queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1))],
                    right=[age],
                    width=12,
                )
            )
        for env, queue in stack.held_queues.items():
            name = env.title().replace("_", "")
            # Not "not empty": a subscriber down for a day lands here by design. Only a sustained flow pages.
            given_up = queue.metric_number_of_messages_sent(period=Duration.hours(1), statistic="Sum")
            per_hour = stage.webhook_given_up_alarm_per_hour
            alarm(
                f"{name}Growing",
                given_up,
                per_hour,
                f"More than {per_hour} messages an hour into {queue.node.id} for 3 hours: receivers down past the "
                "retry age, many at once (our outbound side?). See docs/operations.md.",
                evaluation_periods=3,
            )
            queue_widgets.append(
                cw.GraphWidget(
                    title=f"{env}: held, and added per hour",
                    left=[queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5))],
                    right=[given_up],
                    width=12,
                )
            )
        stream_widgets = []
        for logical_id in stack.stream_consumers:
            # The publisher reports failed records as batch item failures, so its Errors stay quiet while it lags.
            lag = cw.Metric(
                namespace="AWS/Lambda",
                metric_name="IteratorAge",  # milliseconds
                dimensions_map={"FunctionName": f"{stack.stack_name}-{logical_id}"},
                statistic="Maximum",
                period=FIVE_MINUTES,
            )
            alarm(
                f"{logical_id}IteratorAge",
                lag,
                stage.stream_lag_alarm_seconds * 1000,
                f"{logical_id} is more than {stage.stream_lag_alarm_seconds} s behind its stream: status events are "
                "late (see docs/operations.md).",
            )
            stream_widgets.append(
                cw.GraphWidget(title=f"{logical_id}: stream lag (IteratorAge, ms)", left=[lag], width=12)
            )
        for logical_id in stack.functions:
            dims = {"FunctionName": f"{stack.stack_name}-{logical_id}"}

            def metric(name: str, statistic: str = "Sum", dims=dims) -> cw.Metric:
                return cw.Metric(
                    namespace="AWS/Lambda",
                    metric_name=name,
                    dimensions_map=dims,
                    statistic=statistic,
                    period=FIVE_MINUTES,
                )

            alarm(f"{logical_id}Errors", metric("Errors"), 0, f"{logical_id} raised errors (see its logs).")
            alarm(f"{logical_id}Throttles", metric("Throttles"), 0, f"{logical_id} was throttled (concurrency).")
            lambda_widgets.append(
                cw.GraphWidget(
                    title=f"{logical_id}",
                    left=[metric("Invocations"), metric("Errors"), metric("Throttles")],
                    right=[metric("Duration", "p99"), metric("ConcurrentExecutions", "Maximum")],
                    width=12,
                )
            )
        api_widgets = []
        if "RestAPI" in stack._sam_json()["Resources"]:
            api_dims = {"ApiName": stack.stack_name, "Stage": "api"}

            def api_metric(name: str, statistic: str = "Sum") -> cw.Metric:
                return cw.Metric(
                    namespace="AWS/ApiGateway",
                    metric_name=name,
                    dimensions_map=api_dims,
                    statistic=statistic,
                    period=FIVE_MINUTES,
                )

            # A rate, not a count (see the stage's settings)
            percent, least, most = (
                stage.api_5xx_alarm_percent,
                stage.api_5xx_alarm_min_errors,
                stage.api_5xx_alarm_max_errors,
            )
            api_5xx_rate = cw.MathExpression(
                # (past `most` errors it reads 100 %, over any threshold)
                expression=f"IF(errors >= {most}, 100, IF(errors >= {least}, 100 * errors / requests, 0))",
                using_metrics={"errors": api_metric("5XXError"), "requests": api_metric("Count")},
                period=FIVE_MINUTES,
                label="5XX, % of requests",
            )
            alarm(
                "Api5xx",
                api_5xx_rate,
                percent,
                f"Over {percent:g} % of the API's requests answered 5XX in 5 minutes ({least} or more of them), or "
                f"{most} 5XX or more whatever the share.",
            )
            api_widgets.append(
                cw.GraphWidget(
                    title="API: requests, 4XX, 5XX, latency p99",
                    left=[api_metric("Count"), api_metric("4XXError"), api_metric("5XXError")],
                    right=[api_metric("Latency", "p99")],
                    width=24,
                )
            )
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{stack.prefix}")
        dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24))
        for widget in api_widgets + queue_widgets + stream_widgets + lambda_widgets:
            dashboard.add_widgets(widget)
