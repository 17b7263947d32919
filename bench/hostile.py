#!/usr/bin/env python3
"""Hostile-input benchmark (issue #16): times `calcbook check` on books built to be expensive.

Each case is generated in a temporary folder; the script reports wall time, peak memory (max RSS)
and the exit code. The tests in tests/it/hardening.rs assert what each case must do (finish, or
stop with a clean error); this script says how long it takes.

    python3 bench/hostile.py [--calcbook target/release/calcbook] [--runs 3]

Build calcbook first with `cargo build --release`.
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

SUMMARY = "# Summary\n\n- [One](one.md)\n"


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def case_statements(root):
    body = "".join(f"x{i} = {i} s\n" for i in range(20_000))
    write(root, "src/one.md", f"# One\n\n```calc\n{body}```\n")


def case_data_entries(root):
    write(root, "src/one.md", "# One\n")
    entries = "".join(
        f"e{i}:\n  name: E{i}\n  v: {i} s\n  source: test\n" for i in range(100_000)
    )
    write(root, "data/facts.yaml", entries)


def case_nested_lists(root):
    nested = "[" * 10_000 + "1" + "]" * 10_000
    write(root, "src/one.md", f"# One\n\n```calc\nx = {nested}\n```\n")


def case_big_chapter(root):
    write(root, "book.toml", "[calcbook]\nmax-file-bytes = 60000000\n")
    line = "Prose with *emphasis*, `code` and a [link](one.md).\n\n"
    write(root, "src/one.md", "# One\n\n" + line * (50_000_000 // len(line)))


def case_step_budget(root):
    # 100,000 table-like rows that each spend many steps: the book budget stops them.
    body = "fn sq(x) = x * x\nfn row(i) = sum(map(1..1000, sq))\n"
    body += "".join(f"r{i} = row({i})\n" for i in range(100_000))
    write(root, "src/one.md", f"# One\n\n```calc\n{body}```\n")


def case_include_fan_out(root):
    write(root, "src/one.md", "{{#include f0.md}}\n" * 10)
    for level in range(9):
        write(root, f"src/f{level}.md", f"{{{{#include f{level + 1}.md}}}}\n" * 10)
    write(root, "src/f9.md", "leaf\n")


CASES = [
    ("20,000 statements", case_statements),
    ("100,000 data entries", case_data_entries),
    ("lists nested 10,000 deep", case_nested_lists),
    ("a 50 MB chapter", case_big_chapter),
    ("100,000 costly statements", case_step_budget),
    ("include fan-out 10^10", case_include_fan_out),
]


def run(calcbook, root):
    start = time.perf_counter()
    proc = subprocess.Popen(
        [calcbook, "check", root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # wait4 gives this child's own peak memory (ru_maxrss, KiB on Linux).
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calcbook", default="target/release/calcbook")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    calcbook = os.path.abspath(args.calcbook)
    print(f"{'case':<28} {'median s':>9} {'max RSS MiB':>12} {'exit':>5}")
    for name, make in CASES:
        with tempfile.TemporaryDirectory() as root:
            write(root, "src/SUMMARY.md", SUMMARY)
            make(root)
            results = [run(calcbook, root) for _ in range(args.runs)]
            times = [r[0] for r in results]
            rss = max(r[1] for r in results) / 1024
            print(f"{name:<28} {statistics.median(times):>9.3f} {rss:>12.0f} {results[-1][2]:>5}")


if __name__ == "__main__":
    main()
