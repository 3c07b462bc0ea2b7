"""`make redrive` on moto: batches under SQS's 1 MiB, refusals and errors (exit 1, nothing left in flight), the
messages in flight in its counts, Ctrl-C between a send and its delete, and the Makefile's DRY_RUN and MAX."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.config import settings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
import redrive as tool  # noqa: E402


def counts(sqs, url) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def queues(aws):
    """The validation queue and its DLQ, the DLQ with a visibility timeout as deployed (the fixture's is 0)."""
    name = settings().validation_queue
    sqs = boto3.client("sqs")
    dlq = aws.queue_urls[f"{name}-dlq"]
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"VisibilityTimeout": "30"})
    return sqs, name, aws.queue_urls[name], dlq


def dead_letters(sqs, dlq, n: int, size: int = 0) -> None:
    for i in range(n):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"Event": "s3:TestEvent", "n": i, "pad": "x" * size}))


def run(monkeypatch, sqs, argv) -> int:
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: sqs)
    return tool.main(argv)


def test_large_dead_letters_go_back_in_batches_under_1_mib(queues, monkeypatch, capsys):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 10, size=200_000)  # events up to SNS's 256 KiB make delivery jobs this large
    sent, real = [], sqs.send_message_batch
    monkeypatch.setattr(sqs, "send_message_batch", lambda **kw: sent.append(kw["Entries"]) or real(**kw))

    assert run(monkeypatch, sqs, [name]) == 0
    assert counts(sqs, url) == (10, 0) and counts(sqs, dlq) == (0, 0)
    assert len(sent) > 1 and all(sum(len(e["MessageBody"]) for e in batch) < 1024 * 1024 for batch in sent)
    assert "moved back to " + name + ": 10" in capsys.readouterr().out


def test_an_error_makes_the_received_messages_visible_again_and_exits_1(queues, monkeypatch, capsys):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 25)
    real, calls = sqs.send_message_batch, []

    def throttled_second_time(**kw):
        calls.append(1)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "RequestThrottled", "Message": "slow down"}}, "SendMessageBatch")
        return real(**kw)

    monkeypatch.setattr(sqs, "send_message_batch", throttled_second_time)
    assert run(monkeypatch, sqs, [name]) == 1
    assert counts(sqs, url) == (10, 0)
    assert counts(sqs, dlq) == (15, 0)  # the 10 received with the failed batch are not hidden for 30 s
    out = capsys.readouterr()
    assert "RequestThrottled" in out.err and f"left in {name}-dlq: 15 visible, 0 in flight" in out.out


def refusing(sqs, monkeypatch, times: int, sender_fault: bool) -> list[int]:
    """SQS answers the first entry of a batch as Failed, `times` times."""
    real, refusals = sqs.send_message_batch, []

    def partly_refused(QueueUrl, Entries):  # noqa: N803 - boto3's names
        if len(refusals) == times:
            return real(QueueUrl=QueueUrl, Entries=Entries)
        refusals.append(1)
        answer = real(QueueUrl=QueueUrl, Entries=Entries[1:]) if Entries[1:] else {"Successful": []}
        answer["Failed"] = [{"Id": Entries[0]["Id"], "SenderFault": sender_fault, "Code": "InternalError",
                             "Message": "we had a problem"}]  # fmt: skip
        return answer

    monkeypatch.setattr(sqs, "send_message_batch", partly_refused)
    monkeypatch.setattr(tool, "RETRY_PAUSE_SECONDS", 0.0, raising=False)
    return refusals


def test_entries_refused_by_no_fault_of_ours_are_sent_again(queues, monkeypatch, capsys):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 3)
    refusing(sqs, monkeypatch, times=2, sender_fault=False)
    assert run(monkeypatch, sqs, [name]) == 0
    assert counts(sqs, url) == (3, 0) and counts(sqs, dlq) == (0, 0)


def test_a_refusal_that_lasts_exits_1_saying_what_is_left(queues, monkeypatch, capsys):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 3)
    refusals = refusing(sqs, monkeypatch, times=100, sender_fault=False)
    assert run(monkeypatch, sqs, [name]) == 1
    assert len(refusals) == 1 + getattr(tool, "RETRIES", 0)
    assert counts(sqs, url) == (2, 0) and counts(sqs, dlq) == (1, 0)
    out = capsys.readouterr()
    assert "1 message(s) refused" in out.err and "InternalError" in out.err
    assert f"left in {name}-dlq: 1 visible, 0 in flight" in out.out


def test_an_entry_refused_by_its_sender_fault_is_not_sent_again(queues, monkeypatch):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 3)
    refusals = refusing(sqs, monkeypatch, times=100, sender_fault=True)
    assert run(monkeypatch, sqs, [name]) == 1
    assert len(refusals) == 1 and counts(sqs, dlq) == (1, 0)


def test_dry_run_and_the_report_count_the_messages_in_flight(queues, monkeypatch, capsys):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 15)
    sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)  # "read them" in the console hides them for 30 s
    hint = "run again once they are visible, after the queue's visibility timeout (30 s)"

    assert run(monkeypatch, sqs, [name, "--dry-run"]) == 0
    assert f"dead letters in {name}-dlq: 5 visible, 10 in flight: {hint}" in capsys.readouterr().out
    assert run(monkeypatch, sqs, [name]) == 0
    out = capsys.readouterr().out
    assert f"moved back to {name}: 5" in out and f"left in {name}-dlq: 0 visible, 10 in flight: {hint}" in out


def test_ctrl_c_between_a_send_and_its_delete_still_deletes_what_was_sent(queues, monkeypatch):
    sqs, name, url, dlq = queues
    dead_letters(sqs, dlq, 25)
    real, calls = sqs.send_message_batch, []

    def interrupted_after_the_second(**kw):
        answer = real(**kw)
        calls.append(1)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C as SQS answers
        return answer

    monkeypatch.setattr(sqs, "send_message_batch", interrupted_after_the_second)
    with pytest.raises(KeyboardInterrupt):
        tool.redrive(sqs, name)
    assert counts(sqs, url) == (20, 0)
    assert counts(sqs, dlq) == (5, 0)  # none sent twice by a rerun, none hidden from it


@pytest.mark.parametrize("value", ["0", "-3", "x"])
def test_max_is_a_positive_number(queues, value, capsys):
    sqs, name, url, dlq = queues
    with pytest.raises(SystemExit) as stopped:
        tool.main([name, "--max", value])
    assert stopped.value.code == 2 and "--max" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "dry"), [("1", True), ("true", True), ("yes", True), ("0", False), ("false", False), ("", False)]
)
def test_make_redrive_dry_run_0_is_a_real_run(value, dry):
    shown = subprocess.run(["make", "-n", "redrive", "QUEUE=q", f"DRY_RUN={value}"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    [command] = [line for line in shown.splitlines() if "infra/redrive.py" in line]
    assert ("--dry-run" in command.split()) is dry


def test_make_redrive_refuses_an_unknown_dry_run_value():
    shown = subprocess.run(["make", "-n", "redrive", "QUEUE=q", "DRY_RUN=maybe"], cwd=ROOT, capture_output=True,
                           text=True)  # fmt: skip
    assert shown.returncode != 0 and "DRY_RUN=maybe" in shown.stderr
