#!/usr/bin/env python3
"""Claim sensitivity: which of the book's claims can fail when a sourced figure changes?

A claim that compares a statement with a value computed from `data/` should change its verdict
when the data it rests on changes a lot. This script doubles and then halves each number in
`data/*.yaml`, one number at a time, in a temporary copy of the book, runs
`calcbook check --format json` on the copy, and records which claims change status (holds ->
fails or not evaluated, or the reverse). It reports the fraction of claims whose verdict flips
for at least one mutation, and lists the claims that never flip: those are the ones that test
the engine's arithmetic against itself, are true by construction, or have tolerances so wide that
no factor-of-two change in any one figure moves them.

    python3 bench/claim_sensitivity.py [--calcbook target/release/calcbook] [--book .]
                                       [--jobs 2] [--json OUT.json] [--only FILE.yaml]
                                       [--exclude FILE.yaml] [--list]

Build calcbook first (`cargo build --release`). Runtime: one `check` per mutation, two mutations
per number. Measured on the shared 2-core development machine with 2 jobs: 778 checks (389
numbers) in 461 s; 950 checks (475 numbers, after data/talk.yaml and data/measurements.yaml were
added) in 627 s, and 1,086 s when other builds shared the cores. A check of the bundled book
takes about 0.2 s of CPU.

Measured results: 105/159 claims (66%) flipped on the book before issue #14's rework; 110/129
(85.3%) after it, the same with `--exclude talk.yaml` (no claim depends only on the talk's own
input figures); 116/142 (81.7%) after four helpers' work was merged (a first-principles chapter
whose demonstrations no figure could move, new racks and memory-wall sections), and 112/131
(85.5%) once those demonstrations and factors no source states became shown values and
DeepSeek's decode unit was modelled in its own layout. With the release binary, 970 checks (485 numbers) took 125 s on a quiet machine
and 281 s on a loaded one; with the debug binary on the loaded machine, 1,114 s.

What counts as a number: every numeric token in a YAML value (plain counts such as `layers: 61`,
the number in a quantity string such as `8 TB/s` or `2.95 $/hour`), except under text keys
(`name`, `note`, `*_note`, `date_read`, `topology`), source keys (`source`, `*_source`), block
scalars (`note: >-` and its lines), comments and URLs. A number written with an exponent
(`671e9`) has its mantissa scaled, so the mutated file stays valid YAML of the same shape.

A mutation that makes the whole book fail to load (no claims in the report) is counted as
"broke the book" and flips nothing; a claim that becomes "not evaluated" counts as flipped (it
depended on the figure).
"""

import argparse
import concurrent.futures
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time

TEXT_KEYS = {"name", "note", "date_read", "topology", "kind", "weight_precision", "chip"}
KEY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:(?=\s|$)")
# A number not glued to a word (so `h100`, `bf16:`, `cache_write_5m` are not numbers) and not
# part of a longer dotted token (a version such as 4.6 inside a name is skipped by its key).
NUM_RE = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(?:([eE])([-+]?\d+))?(?![\w.])")


def is_text_key(key):
    return key in TEXT_KEYS or key.endswith("_note") or key == "source" or key.endswith("_source")


def numbers_in(text):
    """Yields (start, end, mantissa, exponent_suffix) for each mutable number in a YAML file."""
    block_indent = None  # inside a block scalar (`note: >-`) deeper than this indent
    in_list_of = None  # key whose block list we are in (`source:` followed by `- url` lines)
    list_indent = None
    offset = 0
    for line in text.splitlines(keepends=True):
        start_of_line = offset
        offset += len(line)
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if stripped == "" or indent > block_indent:
                continue
            block_indent = None
        if in_list_of is not None:
            if stripped.startswith("- ") and indent >= list_indent:
                if is_text_key(in_list_of):
                    continue
            elif stripped:
                in_list_of = None
        if not stripped or stripped.startswith("#"):
            continue
        body = line
        hash_at = re.search(r"\s#", body)
        if hash_at:
            body = body[: hash_at.start()]
        block = re.match(r"\s*(?:- )?([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([>|][-+]?)\s*$", body)
        if block:
            block_indent = indent
            continue
        bare_key = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*$", body)
        if bare_key:
            in_list_of = bare_key.group(1)
            list_indent = indent
            continue
        if "http" in body:
            continue
        keys = [(m.end(), m.group(1)) for m in KEY_RE.finditer(body)]
        for m in NUM_RE.finditer(body):
            owner = None
            for end, key in keys:
                if end <= m.start():
                    owner = key
            if owner is None and in_list_of is not None:
                owner = in_list_of
            if owner is None or is_text_key(owner):
                continue
            # Skip digits inside a quoted string that is not a quantity (e.g. a date "2026-04").
            before = body[: m.start()]
            if before.count('"') % 2 == 1 and not re.match(r'[\d.eE+-]+ [^"]*"', body[m.start():]):
                continue
            exp = m.group(2) + m.group(3) if m.group(2) else ""
            yield (start_of_line + m.start(), start_of_line + m.end(), m.group(1), exp)


def scaled(mantissa, factor):
    value = float(mantissa) * factor
    text = ("%.12g" % value)
    if "e" in text:  # keep the file's plain spelling
        text = ("%.12f" % value).rstrip("0").rstrip(".")
    return text


def mutations(book):
    data_dir = os.path.join(book, "data")
    out = []
    for name in sorted(os.listdir(data_dir)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(data_dir, name)
        text = open(path, encoding="utf-8").read()
        for start, end, mantissa, exp in numbers_in(text):
            line = text.count("\n", 0, start) + 1
            for factor in (2.0, 0.5):
                new = text[:start] + scaled(mantissa, factor) + exp + text[end:]
                label = "%s:%d %s%s x%g" % (name, line, mantissa, exp, factor)
                out.append((name, new, label))
    return out


def run_check(calcbook, book):
    proc = subprocess.run(
        [calcbook, "check", book, "--format", "json"],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None
    claims = {}
    for c in report.get("claims", []):
        key = "%s:%d:%d" % (c["file"], c["line"], c["column"])
        claims[key] = (c["status"], c["kind"], c["words"])
    return claims


def copy_book(book, into):
    for entry in os.listdir(book):
        if entry in ("target", "book", ".git", "bench", "src", "tests", "benches"):
            continue
        src = os.path.join(book, entry)
        dst = os.path.join(into, entry)
        if os.path.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calcbook", default="target/release/calcbook")
    ap.add_argument("--book", default=".")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write per-claim results here")
    ap.add_argument("--only", help="mutate only this data file (e.g. models.yaml)")
    ap.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="do not mutate this data file (repeatable); e.g. talk.yaml, whose figures are the "
        "talk's inputs rather than sourced data",
    )
    ap.add_argument("--list", action="store_true", help="list the mutable numbers and exit")
    args = ap.parse_args()
    calcbook = os.path.abspath(args.calcbook)
    book = os.path.abspath(args.book)
    started = time.time()

    muts = mutations(book)
    if args.only:
        muts = [m for m in muts if m[0] == args.only]
    if args.exclude:
        muts = [m for m in muts if m[0] not in args.exclude]
    if args.list:
        for _, _, label in muts[::2]:
            print(label.rsplit(" x", 1)[0])
        print("%d numbers" % (len(muts) // 2))
        return 0

    baseline = run_check(calcbook, book)
    if not baseline:
        print("the unmodified book did not check: fix it first", file=sys.stderr)
        return 1
    failing = [k for k, v in baseline.items() if v[0] != "holds"]
    if failing:
        print("warning: %d claims do not hold on the unmodified book" % len(failing))

    tmp = tempfile.mkdtemp(prefix="claim-sensitivity-")
    copies = queue.Queue()
    for i in range(args.jobs):
        d = os.path.join(tmp, "book%d" % i)
        os.mkdir(d)
        copy_book(book, d)
        copies.put(d)

    def one(mutation):
        name, text, label = mutation
        d = copies.get()
        try:
            path = os.path.join(d, "data", name)
            original = open(path, encoding="utf-8").read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            try:
                result = run_check(calcbook, d)
            finally:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original)
            return label, result
        finally:
            copies.put(d)

    flipped_by = {k: [] for k in baseline}
    broke = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for label, result in pool.map(one, muts):
            if not result:
                broke.append(label)
                continue
            for key, (status, _, _) in baseline.items():
                new = result.get(key)
                if new is not None and new[0] != status:
                    flipped_by[key].append(label)
    shutil.rmtree(tmp, ignore_errors=True)

    sensitive = [k for k, v in flipped_by.items() if v]
    never = [k for k, v in flipped_by.items() if not v]
    total = len(baseline)
    print("numbers mutated: %d (x2 and x0.5: %d checks)" % (len(muts) // 2, len(muts)))
    if broke:
        print("mutations that broke the book (no claims reported): %d" % len(broke))
        for label in broke:
            print("  " + label)
    print("claims: %d (%d claim, %d refute)" % (
        total,
        sum(1 for v in baseline.values() if v[1] == "claim"),
        sum(1 for v in baseline.values() if v[1] == "refute"),
    ))
    print("claims whose verdict flips for some mutation: %d/%d (%.1f%%)" % (
        len(sensitive), total, 100.0 * len(sensitive) / total))
    print("claims that never depend on data (%d):" % len(never))
    for key in sorted(never, key=lambda k: (k.split(":")[0], int(k.split(":")[1]))):
        status, kind, words = baseline[key]
        print("  %s  %s \"%s\"" % (key, kind, words))
    print("runtime: %.0f s with %d jobs" % (time.time() - started, args.jobs))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "claims": total,
                    "sensitive": len(sensitive),
                    "flipped_by": flipped_by,
                    "broke": broke,
                    "words": {k: v[2] for k, v in baseline.items()},
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
