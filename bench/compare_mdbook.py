#!/usr/bin/env python3
"""Builds real mdBook books with calcbook and with mdBook side by side, and compares the output.

    python3 bench/compare_mdbook.py BOOK_DIR... [--calcbook target/release/calcbook] [--mdbook mdbook]

Each BOOK_DIR (a folder holding book.toml) is copied to a temporary folder, unchanged, and built
there twice: by calcbook as it is, and by mdBook with the preprocessors and renderers that are not
built into mdBook removed from its book.toml (plugins need installing, so without this mdBook would
not build most books at all). Per book it prints:

- both exit codes;
- pages only one of them wrote (`.html` files, mdBook's theme files aside);
- heading-id agreement: over chapter pages both wrote (not print.html, where mdBook renumbers
  ids across the whole book, nor 404.html), the share of mdBook's heading ids (`<h1>`…`<h6>`) that
  calcbook's page has too;
- calcbook's leftovers: `{{#` directives and `[!NOTE]`-style admonition markers in prose, and Rust
  lines hidden with `# ` that are still visible (the same counts for mdBook as a baseline);
- wall time, CPU time (user + system) and peak memory (max RSS) of each build, and the
  calcbook/mdBook ratios (on a busy machine the CPU ratio is the steadier one).

Build calcbook first with `cargo build --release`; install mdBook with `cargo install mdbook`.
"""

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BUILTIN_PREPROCESSORS = {"index", "links"}
# Files mdBook's theme writes that are not pages of the book.
MDBOOK_THEME_PAGES = {"toc.html"}

HEADING_ID = re.compile(r"<h[1-6]\b[^>]*?\bid=\"([^\"]*)\"")
CODE_ELEMENT = re.compile(r"<code\b[^>]*>.*?</code>", re.S)
RUST_CODE = re.compile(r"<code class=\"language-rust[^\"]*\">(.*?)</code>", re.S)
BORING = re.compile(r"<span class=\"boring\">.*?</span>", re.S)
TAG = re.compile(r"<[^>]+>")
ADMONITION = re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]")
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.S)


def strip_unsupported(book_toml):
    """book.toml text without `[preprocessor.X]` (X not built in) and `[output.Y]` (Y != html)."""
    out, skipping = [], False
    for line in book_toml.splitlines(keepends=True):
        m = re.match(r"\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$", line)
        if m:
            parts = [p.strip().strip('"') for p in m.group(1).split(".")]
            skipping = (parts[0] == "preprocessor" and len(parts) > 1
                        and parts[1] not in BUILTIN_PREPROCESSORS) or (
                parts[0] == "output" and len(parts) > 1 and parts[1] != "html")
        if not skipping:
            out.append(line)
    return "".join(out)


def run(cmd, cwd):
    """Runs `cmd`; returns (exit code, wall seconds, CPU seconds, peak RSS in KiB, output tail).

    Under GNU time when it is there: a child forked from this Python process would count the
    interpreter's own memory in its peak RSS until it execs.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        wrapped = cmd
        if os.path.exists("/usr/bin/time"):
            wrapped = ["/usr/bin/time", "-q", "-f", "%e %U %S %M", "-o", stats.name] + cmd
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
        fields = stats.read().split()
        if len(fields) == 4:
            wall, cpu, rss = float(fields[0]), float(fields[1]) + float(fields[2]), int(fields[3])
    code = os.waitstatus_to_exitcode(status)
    return code, wall, cpu, rss, out.decode("utf-8", "replace")[-2000:]


def pages(out_dir):
    found = set()
    for dirpath, _, files in os.walk(out_dir):
        for name in files:
            if name.endswith(".html"):
                rel = os.path.relpath(os.path.join(dirpath, name), out_dir).replace(os.sep, "/")
                if rel not in MDBOOK_THEME_PAGES and not rel.startswith(("theme/", "FontAwesome/")):
                    found.add(rel)
    return found


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def leftovers(page_html):
    """(directives, admonition markers, visible hidden lines) in one page."""
    prose = CODE_ELEMENT.sub("", SCRIPT_OR_STYLE.sub("", page_html))
    prose = TAG.sub("", prose)
    directives = prose.count("{{#")
    markers = len(ADMONITION.findall(prose))
    hidden = 0
    for block in RUST_CODE.findall(page_html):
        visible = html.unescape(TAG.sub("", BORING.sub("", block)))
        hidden += sum(1 for line in visible.split("\n") if re.match(r"\s*#(\s|$)", line))
    return directives, markers, hidden


def compare(book_dir, calcbook, mdbook):
    parts = os.path.normpath(os.path.abspath(book_dir)).split(os.sep)
    # `book`, `guide` and `doc` say little alone (rust-lang/book vs cargo's doc/book): add the parent.
    name = "/".join(parts[-2:]) if parts[-1] in ("book", "guide", "doc", "src") else parts[-1]
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        cb_src, md_src = os.path.join(tmp, "cb"), os.path.join(tmp, "md")
        ignore = shutil.ignore_patterns(".git", "target", "book")
        shutil.copytree(book_dir, cb_src, ignore=ignore, symlinks=True)
        shutil.copytree(book_dir, md_src, ignore=ignore, symlinks=True)
        toml_path = os.path.join(md_src, "book.toml")
        with open(toml_path, encoding="utf-8") as f:
            stripped = strip_unsupported(f.read())
        with open(toml_path, "w", encoding="utf-8") as f:
            f.write(stripped)
        cb_out, md_out = os.path.join(tmp, "cb-out"), os.path.join(tmp, "md-out")
        cb = run([calcbook, "build", "-d", cb_out, "."], cb_src)
        md = run([mdbook, "build", "-d", md_out, "."], md_src)
        cb_pages = pages(cb_out) if os.path.isdir(cb_out) else set()
        md_pages = pages(md_out) if os.path.isdir(md_out) else set()
        both = sorted(cb_pages & md_pages)
        agree = total = 0
        cb_left, md_left = [0, 0, 0], [0, 0, 0]
        for rel in both:
            if rel in ("print.html", "404.html"):
                continue
            cb_html, md_html = read(os.path.join(cb_out, rel)), read(os.path.join(md_out, rel))
            md_ids = set(HEADING_ID.findall(md_html))
            cb_ids = set(HEADING_ID.findall(cb_html))
            total += len(md_ids)
            agree += len(md_ids & cb_ids)
        for rel in cb_pages:
            for i, n in enumerate(leftovers(read(os.path.join(cb_out, rel)))):
                cb_left[i] += n
        for rel in md_pages:
            for i, n in enumerate(leftovers(read(os.path.join(md_out, rel)))):
                md_left[i] += n
        return {
            "book": name,
            "cb": cb,
            "md": md,
            "only_cb": sorted(cb_pages - md_pages),
            "only_md": sorted(md_pages - cb_pages),
            "ids": (agree, total),
            "cb_left": cb_left,
            "md_left": md_left,
        }


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("books", nargs="+", help="folders holding book.toml")
    parser.add_argument("--calcbook", default="target/release/calcbook")
    parser.add_argument("--mdbook", default="mdbook")
    parser.add_argument("--verbose", action="store_true", help="list differing pages and tails")
    args = parser.parse_args()
    calcbook = os.path.abspath(args.calcbook) if os.sep in args.calcbook else args.calcbook
    rows = []
    for book in args.books:
        print(f"building {book} …", file=sys.stderr)
        rows.append(compare(book, calcbook, args.mdbook))

    header = ("book", "exit cb/md", "only cb", "only md", "heading ids", "left cb {{#/[!]/#",
              "left md", "wall cb/md", "ratio", "CPU ratio", "RSS MiB cb/md", "ratio")
    table = [header]
    for r in rows:
        (cc, ct, cu, cm, _), (mc, mt, mu, mm, _) = r["cb"], r["md"]
        agree, total = r["ids"]
        table.append((
            r["book"], f"{cc}/{mc}", str(len(r["only_cb"])), str(len(r["only_md"])),
            f"{agree}/{total}" + (f" ({100 * agree / total:.1f}%)" if total else ""),
            "/".join(map(str, r["cb_left"])), "/".join(map(str, r["md_left"])),
            f"{ct:.2f}s/{mt:.2f}s", ratio(ct, mt), ratio(cu, mu),
            f"{cm / 1024:.0f}/{mm / 1024:.0f}", ratio(cm, mm),
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        if r["only_cb"] or r["only_md"] or args.verbose:
            print(f"\n{r['book']}: only calcbook: {r['only_cb'][:8]}; only mdBook: {r['only_md'][:8]}")
        for tool in ("cb", "md"):
            if r[tool][0] != 0 or args.verbose:
                print(f"\n{r['book']} {tool} exit {r[tool][0]}:\n{r[tool][4]}")


if __name__ == "__main__":
    main()
