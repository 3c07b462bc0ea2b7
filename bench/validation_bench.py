"""Benchmark of the EN 16931 validation engine on the conformance corpus's complete invoices.

    .venv/bin/python bench/validation_bench.py [--repeat N] [--corpus DIR]

Prints, for the complete invoices (kinds example / testfile / generated):
* median ms per invoice for lxml parsing alone (the floor) and for parse + all rules,
* their ratio, invoices per second (whole corpus, warm process),
* the engine's import/load time, and the peak memory of validating the whole corpus
  (tracemalloc peak of Python allocations and the process's max RSS).

Per-invoice times are CPU time (``time.process_time``) of the best of ``--repeat`` runs of each
invoice, so that other processes on a shared machine inflate them as little as possible; the
median is then taken over the invoices. Throughput is whole-corpus rounds (best round) in CPU time,
with the wall-clock figure beside it (which does show the machine's load).

``--phases`` prints instead where a validation's time goes: per phase (parse, the node list, the reader, each rule
family in the engine's order), the median over the invoices of each one's best of ``--repeat`` runs. On a shared
machine CPU times still vary by 10-30 % from run to run: compare two versions with instruction counts instead.
``--count-round`` validates the corpus once more after the warm-up, inside ``map`` so that callgrind can count that
round alone (add ``--syntax cii`` or ``ubl`` to count one syntax)::

    valgrind --tool=callgrind --toggle-collect=map_next --callgrind-out-file=/dev/null \
        .venv/bin/python bench/validation_bench.py --count-round     # "Collected : N" instructions
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = Path(os.environ.get("CHORALE_CONFORMANCE_DIR", ROOT.parent / "shared" / "conformance" / "en16931"))


def load_corpus(corpus: Path) -> list[tuple[str, bytes]]:
    entries = json.loads((corpus / "manifest.json").read_text())["entries"]
    return [
        (e["file"], (corpus / e["file"]).read_bytes())
        for e in entries
        if e["kind"] in ("example", "testfile", "generated")
    ]


def per_invoice_best(fn, docs: list[bytes], repeat: int) -> list[float]:
    """CPU seconds per document: the best of ``repeat`` runs of each (the least disturbed by other processes).

    A document is timed in a batch of ``inner`` calls so that the clock's resolution does not matter."""
    clock = time.process_time
    out = []
    for data in docs:
        inner = 1
        while True:  # batch size: at least ~1 ms per timed batch
            t0 = clock()
            for _ in range(inner):
                fn(data)
            if clock() - t0 >= 0.001 or inner >= 64:
                break
            inner *= 4
        best = float("inf")
        for _ in range(repeat):
            t0 = clock()
            for _ in range(inner):
                fn(data)
            best = min(best, (clock() - t0) / inner)
        out.append(best)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per invoice (best kept)")
    ap.add_argument("--rounds", type=int, default=5, help="whole-corpus rounds for the throughput (best kept)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--phases", action="store_true", help="median time per phase (parse, reader, each family)")
    ap.add_argument("--count-round", action="store_true", help="one round in map(), for callgrind (see above)")
    ap.add_argument("--syntax", choices=("ubl", "cii"), help="only the invoices of this syntax")
    args = ap.parse_args()
    if not (args.corpus / "manifest.json").is_file():
        # The corpus is separate test data: without it `make bench` still runs its other benches.
        print(
            f"validation bench skipped: no EN 16931 conformance corpus (manifest.json) at {args.corpus}; "
            "put it there or set CHORALE_CONFORMANCE_DIR (or --corpus) to its directory "
            "(README, *EN 16931 validation engine*)"
        )
        return 0

    t0 = time.perf_counter()
    from chalicelib.validation import validate
    from chalicelib.validation.engine import loaded_families
    from chalicelib.validation.parsing import parse_xml

    load_ms = (time.perf_counter() - t0) * 1000

    corpus = load_corpus(args.corpus)
    docs = [d for _, d in corpus]
    if args.syntax:
        docs = [d for d in docs if validate(d).syntax == args.syntax]
    for d in docs:  # warm up
        validate(d)
    if args.count_round:
        collections.deque(map(validate, docs), maxlen=0)  # (the reports are dropped as they come, as below)
        return 0
    if args.phases:
        return print_phases(docs, args.repeat)

    parse = per_invoice_best(parse_xml, docs, args.repeat)
    full = per_invoice_best(validate, docs, args.repeat)
    med_parse = statistics.median(parse) * 1000
    med_full = statistics.median(full) * 1000

    best_cpu = best_wall = float("inf")
    for _ in range(max(1, args.rounds)):
        c0, w0 = time.process_time(), time.perf_counter()
        for d in docs:
            validate(d)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    per_s = len(docs) / best_cpu
    per_s_wall = len(docs) / best_wall

    tracemalloc.start()
    for d in docs:
        validate(d)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    sizes = sorted(len(d) for d in docs)
    print(
        f"complete invoices: {len(docs)} (median size {statistics.median(sizes) / 1024:.1f} KB, "
        f"largest {sizes[-1] / 1024:.0f} KB); families: {', '.join(loaded_families())}"
    )
    print(f"engine import + rule load: {load_ms:.1f} ms")
    print(f"timing: CPU time, best of {args.repeat} runs per invoice, median over the invoices")
    print(f"median parse only (lxml):   {med_parse:.3f} ms/invoice")
    print(f"median parse + all rules:   {med_full:.3f} ms/invoice")
    print(f"ratio (full / parse):       {med_full / med_parse:.1f}x")
    print(f"p95 parse + all rules:      {statistics.quantiles(full, n=20)[-1] * 1000:.3f} ms/invoice")
    print(
        f"throughput (whole corpus):  {per_s:.0f} invoices/s of CPU time ({per_s_wall:.0f}/s wall clock on this "
        f"machine now), best of {max(1, args.rounds)} rounds"
    )
    print(f"peak memory validating the corpus: tracemalloc {peak / 1e6:.1f} MB, max RSS {rss_kb / 1024:.1f} MB")
    return 0


def print_phases(docs: list[bytes], repeat: int) -> int:
    """Median over the invoices of the best CPU time of each phase, as the engine runs them (engine.validate_tree)."""
    from chalicelib.validation import engine
    from chalicelib.validation.document import Document
    from chalicelib.validation.findings import FINDING_COUNTS
    from chalicelib.validation.model import XPATH_MEMO
    from chalicelib.validation.parsing import detect_syntax, parse_xml
    from chalicelib.validation.readers import read_invoice

    clock = time.process_time
    names = ["parse", "node list", "reader", *(name for name, _ in engine._CHECKS)]
    best: dict[str, list[float]] = {name: [] for name in names}
    for data in docs:
        mine = dict.fromkeys(names, float("inf"))
        for _ in range(repeat):
            t0 = clock()
            root = parse_xml(data)
            t1 = clock()
            syntax, document = detect_syntax(root)
            nodes = list(root.iter())
            t2 = clock()
            invoice = read_invoice(root, syntax, document)
            t3 = clock()
            spent = {"parse": t1 - t0, "node list": t2 - t1, "reader": t3 - t2}
            doc = Document(syntax=syntax, root=root, invoice=invoice, nodes=nodes)
            memo, quota = XPATH_MEMO.set({}), FINDING_COUNTS.set({})
            try:
                for name, check in engine._CHECKS:
                    t0 = clock()
                    list(check(doc))
                    spent[name] = clock() - t0
            finally:
                XPATH_MEMO.reset(memo)
                FINDING_COUNTS.reset(quota)
            for name, seconds in spent.items():
                mine[name] = min(mine[name], seconds)
        for name, seconds in mine.items():
            best[name].append(seconds)
    print(f"median CPU time per phase over {len(docs)} invoices (best of {repeat} runs each):")
    total = 0.0
    for name in names:
        ms = statistics.median(best[name]) * 1000
        total += ms
        print(f"  {name:24s} {ms:.3f} ms")
    print(f"  {'sum of the medians':24s} {total:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
