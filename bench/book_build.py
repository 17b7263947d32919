#!/usr/bin/env python3
"""Build benchmark: calcbook against mdBook on the same generated plain-Markdown books.

Generates books of ~110 chapters / ~1.3 MB and ~1,000 chapters / ~13 MB (headings, paragraphs,
lists, tables, code blocks, links between chapters; chapter 1 is left short), builds each
alternately with both tools and reports, side by side: the median wall time, the peak memory (max
RSS), the bytes written, and the weight of a short chapter's page (chapter 1), with their ratios.

    python3 bench/book_build.py [--calcbook target/release/calcbook] [--mdbook mdbook]
                                [--books small,large] [--runs 7]

Build calcbook first with `cargo build --release`; install mdBook with `cargo install mdbook --locked`.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import tempfile

WORDS = (
    "batch memory bandwidth compute token expert rack latency cache prefill decode model weight "
    "context roofline sparsity throughput chip tier price flash disk scale link layer attention "
    "the of a to is in and that for with as on by this from at which be are"
).split()


def sentence(rng):
    n = rng.randint(8, 20)
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng):
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))


def chapter(rng, i, n):
    out = [f"# Chapter {i}\n"]
    for s in range(rng.randint(5, 9)):
        out.append(f"\n## Section {i}.{s}\n\n{paragraph(rng)}\n")
        kind = rng.randint(0, 4)
        if kind == 0:
            out.append("\n" + "\n".join(f"- {sentence(rng)}" for _ in range(5)) + "\n")
        elif kind == 1:
            rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.random():.3f} |" for _ in range(6))
            out.append(f"\n| name | count | share |\n|---|---:|---:|\n{rows}\n")
        elif kind == 2:
            out.append("\n```rust\nfn step(batch: u64) -> f64 {\n    let t = batch as f64 * 2.0;\n    t.max(1.0)\n}\n```\n")
        elif kind == 3:
            j = rng.randint(1, n)
            out.append(f"\nSee [chapter {j}](ch{j:03}.md#section-{j}0) for more, and *emphasis* with `code`.\n")
        out.append(f"\n{paragraph(rng)}\n\n{paragraph(rng)}\n")
    return "".join(out)


def generate(root, chapters=110, target_bytes=1_300_000):
    rng = random.Random(42)
    src = os.path.join(root, "src")
    os.makedirs(src)
    with open(os.path.join(root, "book.toml"), "w") as f:
        f.write('[book]\ntitle = "Bench"\nauthors = ["bench"]\nlanguage = "en"\nsrc = "src"\n')
    texts = [chapter(rng, i, chapters) for i in range(1, chapters + 1)]
    # Pad chapters evenly with paragraphs until the book reaches its target size.
    total = sum(len(t) for t in texts)
    i = 0
    while total < target_bytes:
        extra = "\n" + paragraph(rng) + "\n"
        # Chapter 1 stays short: its page shows what the frame around a chapter weighs.
        texts[1 + i % (chapters - 1)] += extra
        total += len(extra)
        i += 1
    summary = ["# Summary\n"]
    for i, text in enumerate(texts, 1):
        with open(os.path.join(src, f"ch{i:03}.md"), "w") as f:
            f.write(text)
        indent = "  " if i % 5 else ""
        summary.append(f"{indent}- [Chapter {i}](ch{i:03}.md)")
    with open(os.path.join(src, "SUMMARY.md"), "w") as f:
        f.write("\n".join(summary) + "\n")
    return total


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (wall seconds, max RSS in KiB)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M"] + cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss)


def tree_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def bench_book(args, tmp, chapters, target_bytes, runs):
    book = os.path.join(tmp, f"book-{chapters}")
    size = generate(book, chapters, target_bytes)
    short = os.path.getsize(os.path.join(book, "src", "ch001.md"))
    print(f"book: {chapters} chapters, {size / 1e6:.2f} MB of Markdown ({runs} runs each)")
    outs = {name: os.path.join(tmp, f"out-{name}-{chapters}") for name in ("calcbook", "mdbook")}
    cmds = {
        "calcbook": [args.calcbook, "build", book, "--dest-dir", outs["calcbook"]],
        "mdbook": [args.mdbook, "build", book, "--dest-dir", outs["mdbook"]],
    }
    results = {"calcbook": [], "mdbook": []}
    for name in cmds:  # warm-up: page cache, first-run effects
        timed(cmds[name])
    for _ in range(runs):
        for name in cmds:
            results[name].append(timed(cmds[name]))
    med = {}
    for name, runs_ in results.items():
        wall = statistics.median(r[0] for r in runs_)
        rss = max(r[1] for r in runs_)
        out = tree_bytes(outs[name])
        page = os.path.getsize(os.path.join(outs[name], "ch001.html"))
        med[name] = (wall, rss, out, page)
        print(f"  {name:9s} median wall {wall * 1000:7.0f} ms   peak RSS {rss / 1024:6.1f} MiB   "
              f"output {out / 1e6:6.1f} MB   short chapter's page {page / 1e3:5.1f} KB")
    cw, cr, co, cp = med["calcbook"]
    mw, mr, mo, mp = med["mdbook"]
    print(f"  ratio calcbook/mdbook: wall {cw / mw:.2f}x, peak memory {cr / mr:.2f}x, "
          f"output {co / mo:.2f}x, short chapter's page ({short / 1e3:.1f} KB of Markdown) {cp / mp:.2f}x")
    shutil.rmtree(book, ignore_errors=True)
    for out in outs.values():
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calcbook", default="target/release/calcbook")
    ap.add_argument("--mdbook", default=shutil.which("mdbook") or "mdbook")
    ap.add_argument("--books", default="small,large")
    ap.add_argument("--runs", type=int, default=7, help="runs on the small book (3 on the large one)")
    args = ap.parse_args()

    print(f"load average at the start: {os.getloadavg()[0]:.1f} (the machine's other work inflates every figure)")
    with tempfile.TemporaryDirectory() as tmp:
        for which in args.books.split(","):
            if which == "small":
                bench_book(args, tmp, 110, 1_300_000, args.runs)
            else:
                bench_book(args, tmp, 1000, 13_000_000, max(1, min(args.runs, 3)))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
