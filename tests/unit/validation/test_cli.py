"""The CLI contract: ``python -m chalicelib.validation [--json] [--findings] FILE...`` → one JSON object per line."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from chalicelib.validation import __main__ as cli
from chalicelib.validation import validate
from chalicelib.validation.__main__ import main
from chalicelib.validation.parsing import MAX_XML_BYTES
from tests.unit.validation.samples import cii, ubl

ROOT = Path(__file__).resolve().parents[3]


def _run(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(list(args))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_one_line_per_file_with_exact_keys(tmp_path, capsys):
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(ubl())
    bad.write_bytes(cii(incl="1250.00", payable="1250.00"))
    code, lines = _run(capsys, "--json", str(good), str(bad))
    assert code == 0
    assert lines[0] == {"file": str(good), "syntax": "ubl", "valid": True, "fatal": [], "warnings": []}
    assert lines[1]["syntax"] == "cii" and lines[1]["valid"] is False
    assert "BR-CO-15" in lines[1]["fatal"] and lines[1]["fatal"] == sorted(set(lines[1]["fatal"]))


def test_unreadable_inputs_are_reported_not_raised(tmp_path, capsys):
    junk, other, missing = tmp_path / "junk.xml", tmp_path / "other.xml", tmp_path / "missing.xml"
    junk.write_bytes(b"not xml at all")
    other.write_bytes(b"<Order/>")
    code, lines = _run(capsys, str(junk), str(other), str(missing))
    assert code == 0
    assert [ln["error"]["code"] for ln in lines] == ["malformed", "not-an-invoice", "unreadable-file"]
    for ln in lines:
        assert ln["syntax"] is None and ln["valid"] is False and ln["fatal"] == [] and ln["warnings"] == []


def test_without_json_flag_output_is_the_same(tmp_path, capsys):
    f = tmp_path / "a.xml"
    f.write_bytes(cii())
    assert _run(capsys, str(f)) == _run(capsys, "--json", str(f))


def test_module_entry_point(tmp_path):
    f = tmp_path / "a.xml"
    f.write_bytes(ubl())
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.validation", "--json", str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"file": str(f), "syntax": "ubl", "valid": True, "fatal": [], "warnings": []}


def test_usage_error_without_files(capsys):
    assert main([]) == 2


def test_file_name_not_in_utf8_is_reported_in_ascii_json_and_the_others_too(tmp_path):
    good = tmp_path / "good.xml"
    good.write_bytes(ubl())
    odd = os.path.join(os.fsencode(tmp_path), b"caf\xe9-\xff.xml")
    with open(odd, "wb") as fh:
        fh.write(ubl())
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.validation", str(good), odd, str(good)],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.decode("ascii").splitlines()]
    assert [os.fsencode(ln["file"]) for ln in lines] == [os.fsencode(good), odd, os.fsencode(good)]
    assert [ln["valid"] for ln in lines] == [True, True, True]


def test_a_file_that_cannot_even_be_opened_does_not_stop_the_others(tmp_path, capsys):
    good = tmp_path / "good.xml"
    good.write_bytes(ubl())
    code, lines = _run(capsys, "bad\0name.xml", str(good))  # open() raises ValueError, not OSError
    assert code == 0
    assert lines[0]["file"] == "bad\0name.xml" and lines[0]["error"]["code"] == "unreadable-file"
    assert lines[1]["file"] == str(good) and lines[1]["valid"] is True


def test_over_the_limit_is_refused_like_the_library_does(tmp_path, capsys):
    big, good = tmp_path / "big.xml", tmp_path / "good.xml"
    big.write_bytes(b"<a>" + b" " * MAX_XML_BYTES + b"</a>")
    good.write_bytes(ubl())
    code, lines = _run(capsys, str(big), str(good))
    assert code == 0
    assert lines[0]["error"] == validate(big.read_bytes()).error  # same code and detail as validate()
    assert lines[0]["error"]["code"] == "too-large" and lines[0]["valid"] is False
    assert lines[1]["valid"] is True


def test_a_huge_file_is_not_read_into_memory(tmp_path):
    huge, good = tmp_path / "huge.xml", tmp_path / "good.xml"
    with open(huge, "wb") as fh:
        fh.truncate(3 * 1024**3)  # sparse: 3 GiB of zero bytes that take no disk
    good.write_bytes(ubl())
    limit = 1024**3  # address space of the child: reading the whole file raises MemoryError

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.validation", str(huge), "/dev/zero", str(good)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap_memory,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [ln["error"]["code"] for ln in lines[:2]] == ["too-large", "too-large"]
    assert str(3 * 1024**3) in lines[0]["error"]["detail"]
    assert lines[2]["file"] == str(good) and lines[2]["valid"] is True


def test_findings_flag_adds_each_finding_to_the_line(tmp_path, capsys):
    bad, junk = tmp_path / "bad.xml", tmp_path / "junk.xml"
    bad.write_bytes(cii(incl="1250.00", payable="1250.00"))
    junk.write_bytes(b"not xml at all")
    code, [line, error_line] = _run(capsys, "--json", "--findings", str(bad), str(junk))
    assert code == 0
    expected = [f.as_dict() for f in validate(bad.read_bytes()).findings]
    assert line["findings"] == expected and expected
    assert {f["rule"] for f in line["findings"] if f["severity"] == "fatal"} == set(line["fatal"])
    assert set(line) == {"file", "syntax", "valid", "fatal", "warnings", "findings"}
    assert error_line["error"]["code"] == "malformed" and error_line["findings"] == []


def test_default_output_has_no_findings(tmp_path, capsys):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(cii(incl="1250.00", payable="1250.00"))
    _, [line] = _run(capsys, str(bad))
    assert "findings" not in line


def test_findings_flag_from_the_module_entry_point(tmp_path):
    f = tmp_path / "a.xml"
    f.write_bytes(ubl(price="-1.00"))
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.validation", "--findings", str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    [br27] = [x for x in json.loads(proc.stdout)["findings"] if x["rule"] == "BR-27"]
    assert br27 == {
        "rule": "BR-27",
        "severity": "fatal",
        "message": "BT-146 Item net price (-1.00) shall not be negative.",
        "location": "/ubl:Invoice/cac:InvoiceLine/cac:Price/cbc:PriceAmount",
    }


def test_findings_flag_says_how_many_were_counted_and_not_listed(tmp_path, capsys, monkeypatch):
    f = tmp_path / "a.xml"
    f.write_bytes(ubl())

    def quota_hit(data):
        report = validate(data)
        report.omitted = 3
        return report

    monkeypatch.setattr(cli, "validate", quota_hit)
    _, [line] = _run(capsys, "--findings", str(f))
    assert line["findings_omitted"] == 3
    _, [line] = _run(capsys, str(f))
    assert "findings_omitted" not in line
