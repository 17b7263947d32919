#!/usr/bin/env python3
"""Live-reload latency measured in the browser: calcbook serve against mdBook serve, side by side.

For each book (the bundled book, and a generated plain-Markdown book of ~1,000 chapters / ~13 MB,
see bench/book_build.py), serves a copy with each tool in turn, opens a MIDDLE chapter in headless
Chromium (driven over the DevTools protocol, as tests/browser does) and ~20 times appends a marker
line to that chapter, timing from just before the write until the marker is in the page's DOM:
calcbook swaps the page's content in place, mdBook reloads the page. A MutationObserver installed
in every document (Page.addScriptToEvaluateOnNewDocument) stamps the moment the marker appears,
on the same clock as the write (epoch milliseconds). Prints the median, min and max of each, and
the ratio mdBook / calcbook. On the bundled book calcbook's server then saves every chapter in
turn, three times over (`--tour`), and its peak memory after that long session is printed too.

    cargo build --release
    tests/browser/run   # once: sets up target/browser-venv with websocket-client
    target/browser-venv/bin/python bench/serve_latency.py [--books bundled,large] [--edits 20]

mdBook runs with its default watcher (`poll`; `--mdbook-watcher native` for the other). A missing
mdBook is skipped with a message. The machine's load shows in the numbers: run it on a quiet one.
"""

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 15.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_book(dest, plain):
    """The bundled book in `dest`; `plain` gives mdBook a book.toml without calcbook's tables."""
    os.makedirs(dest)
    for name in ("chapters", "data", "templates"):
        if name == "templates" and plain:
            continue
        src = os.path.join(REPO, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, name))
    if plain:
        with open(os.path.join(dest, "book.toml"), "w") as f:
            f.write('[book]\ntitle = "Bench"\nsrc = "chapters"\n')
    else:
        shutil.copy(os.path.join(REPO, "book.toml"), dest)


def middle_chapter(book, src):
    """The chapter file in the middle of SUMMARY.md's list, and its page."""
    with open(os.path.join(book, src, "SUMMARY.md")) as f:
        rels = re.findall(r"\]\(([^)]+\.md)\)", f.read())
    rel = rels[len(rels) // 2]
    return os.path.join(book, src, rel), rel[:-3] + ".html"


class Poller:
    """GETs one page over a kept-alive connection."""

    def __init__(self, port, path):
        self.port, self.path, self.conn = port, path, None

    def get(self):
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
                self.conn.request("GET", "/" + self.path, headers={"Cache-Control": "no-cache"})
                res = self.conn.getresponse()
                body = res.read()
                return res.status, body
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
        return None, b""


def wait_served(poller, proc, name):
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited with {proc.returncode}")
        status, _ = poller.get()
        if status == 200:
            return
        time.sleep(0.05)
    sys.exit(f"{name} did not start serving")


# Runs in every document the browser opens: stamps (epoch ms) the moment the marker named in
# sessionStorage shows up in the page's <main>, whether it was swapped in place or reloaded (then at
# DOMContentLoaded, when the reloaded page's DOM is built).
OBSERVER = """
(function () {
  function look() {
    var marker = sessionStorage.getItem("bench-marker");
    if (!marker || sessionStorage.getItem("bench-seen")) return;
    var main = document.querySelector("main");
    if (main && main.textContent.indexOf(marker) >= 0) {
      sessionStorage.setItem("bench-seen", String(performance.timeOrigin + performance.now()));
    }
  }
  // From DOMContentLoaded on: a reloaded page is stamped as soon as it is parsed, a page updated in
  // place when its content changes. (Observing the parser itself stalled a page's loading.)
  document.addEventListener("DOMContentLoaded", function () {
    look();
    new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
})();
"""


def start_browser(chromium, tmp):
    sys.path.insert(0, os.path.join(REPO, "tests", "browser"))
    from live_reload import CHROMIUM_FLAGS, Page, lines_of, wait_line  # noqa: E402
    import json
    import queue
    import urllib.request

    browser = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={os.path.join(tmp, 'profile')}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    err = queue.Queue()
    threading.Thread(target=lines_of, args=(browser.stderr, err), daemon=True).start()
    devtools = wait_line(err, r"DevTools listening on ws://([^/]+)/", "Chromium's DevTools URL").group(1)
    targets = json.load(urllib.request.urlopen(f"http://{devtools}/json/list", timeout=TIMEOUT))
    page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
    page.call("Page.enable")
    page.call("Page.addScriptToEvaluateOnNewDocument", source=OBSERVER)
    return browser, page


def measure(name, cmd, port, book, src, edits, pause, page, timeout=TIMEOUT, tour_rounds=0):
    chapter, rel = middle_chapter(book, src)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        poller = Poller(port, rel)
        wait_served(poller, proc, name)
        # An idle kept-alive connection to calcbook's server (tiny_http) held up the page's own
        # requests on the large book: close it before the browser comes.
        if poller.conn:
            poller.conn.close()
        page.call("Page.navigate", url=f"http://127.0.0.1:{port}/{rel}")
        page.wait("document.readyState === 'complete' && !!document.querySelector('main')", f"{name}: the page", timeout=60)
        time.sleep(1.5)  # the live-reload connection, and mdBook's poll watcher's first scan
        with open(chapter) as f:
            original = f.read()
        latencies = []
        for i in range(edits):
            marker = f"latency-marker-{name}-{i}-{time.time_ns()}"
            page.js(f"sessionStorage.removeItem('bench-seen'); sessionStorage.setItem('bench-marker', '{marker}'); true")
            t0 = time.time()
            with open(chapter, "w") as f:
                f.write(original + f"\n{marker}\n")
            deadline = time.time() + timeout
            seen = None
            while time.time() < deadline:
                try:
                    seen = page.js("sessionStorage.getItem('bench-seen')")
                except RuntimeError:
                    seen = None  # the page is reloading
                if seen:
                    break
                time.sleep(0.005)
            if not seen:
                print(f"  {name}: edit {i} not in the page within {timeout:.0f} s", file=sys.stderr)
                continue
            latencies.append(float(seen) - t0 * 1000)
            time.sleep(pause)
        with open(chapter, "w") as f:
            f.write(original)
        peak = peak_rss_mib(proc.pid)
        return latencies, peak, tour(proc, book, src, tour_rounds, pause)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tour(proc, book, src, rounds, pause):
    """Saves every chapter of the book in turn, `rounds` times over (an author's long session,
    not one chapter's saves), and returns the server's peak memory after (None for no rounds)."""
    if rounds <= 0:
        return None
    chapters = sorted(
        os.path.join(d, f)
        for d, _, files in os.walk(os.path.join(book, src))
        for f in files
        if f.endswith(".md") and f != "SUMMARY.md"
    )
    originals = {c: open(c).read() for c in chapters}
    for r in range(rounds):
        for c in chapters:
            with open(c, "w") as f:
                f.write(originals[c] + f"\ntour {r}\n")
            time.sleep(pause)
    for c, text in originals.items():
        with open(c, "w") as f:
            f.write(text)
    time.sleep(pause)
    return peak_rss_mib(proc.pid)


def peak_rss_mib(pid):
    """The server's peak resident memory so far (Linux), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def build_peak_mib(calcbook, book, tmp):
    """The peak memory (max RSS, MiB) of one `calcbook build` of the book."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", calcbook, "build", book, "--dest-dir", os.path.join(tmp, "build-rss")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    shutil.rmtree(os.path.join(tmp, "build-rss"), ignore_errors=True)
    try:
        return int(out.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return None


def describe(name, result):
    ms, rss = result[:2] if result else ([], None)
    if not ms:
        print(f"  {name:9s} no edit reached the page")
        return None
    memory = f"   server peak RSS {rss:.0f} MiB" if rss else ""
    print(f"  {name:9s} save to DOM updated: median {statistics.median(ms):7.1f} ms "
          f"(min {min(ms):.1f}, max {max(ms):.1f}, n={len(ms)}){memory}")
    return statistics.median(ms)


def large_book(dest):
    sys.path.insert(0, os.path.join(REPO, "bench"))
    from book_build import generate  # noqa: E402
    size = generate(dest, chapters=1000, target_bytes=13_000_000)
    return size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calcbook", default=os.path.join(REPO, "target", "release", "calcbook"))
    ap.add_argument("--mdbook", default=shutil.which("mdbook") or "mdbook")
    ap.add_argument("--mdbook-watcher", default="poll", choices=["poll", "native"])
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--books", default="bundled,large")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--mdbook-large-edits", type=int, default=3,
                    help="saves for mdBook on the large book (each rebuilds the whole book)")
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between edits")
    ap.add_argument("--tour", type=int, default=3,
                    help="then save every chapter of the bundled book this many times over, for "
                         "serve's memory in a long session (0: none)")
    args = ap.parse_args()
    have_mdbook = os.path.isfile(args.mdbook) or shutil.which(args.mdbook)

    print(f"load average at the start: {os.getloadavg()[0]:.1f} (the machine's other work inflates every figure)")
    # Chromium may still be writing its profile as the folder goes: cleaning up is best effort.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        browser, page = start_browser(args.chromium, tmp)
        try:
            build_rss = {}
            for which in args.books.split(","):
                results = {}
                for tool in ("calcbook", "mdbook"):
                    if tool == "mdbook" and not have_mdbook:
                        continue
                    book = os.path.join(tmp, f"{which}-{tool}")
                    if which == "bundled":
                        copy_book(book, plain=tool == "mdbook")
                        src, what = "chapters", "the bundled book"
                    else:
                        size = large_book(book)
                        src, what = "src", f"a generated book of 1000 chapters, {size / 1e6:.1f} MB"
                    port = free_port()
                    if tool == "calcbook":
                        cmd = [args.calcbook, "serve", book, "--port", str(port)]
                    else:
                        cmd = [args.mdbook, "serve", book, "--port", str(port), "--hostname", "127.0.0.1",
                               "--watcher", args.mdbook_watcher]
                    edits, timeout = args.edits, TIMEOUT
                    if tool == "mdbook" and which == "large":
                        # mdBook rebuilds the whole book on every save: a few saves tell its median.
                        edits, timeout = args.mdbook_large_edits, 300.0
                    if tool == "calcbook":
                        build_rss[which] = build_peak_mib(args.calcbook, book, tmp)
                    rounds = args.tour if tool == "calcbook" and which == "bundled" else 0
                    results[tool] = measure(tool, cmd, port, book, src, edits, args.pause, page, timeout,
                                            tour_rounds=rounds)
                    shutil.rmtree(book, ignore_errors=True)
                print(f"{what}: saves to a middle chapter, measured in Chromium")
                c = describe("calcbook", results.get("calcbook"))
                _, serve_rss, toured_rss = results.get("calcbook") or ([], None, None)
                if serve_rss and build_rss.get(which):
                    print(f"  calcbook serve's peak memory / one build's: {serve_rss:.0f} / "
                          f"{build_rss[which]:.0f} MiB = {serve_rss / build_rss[which]:.2f}x")
                if toured_rss and build_rss.get(which):
                    print(f"  calcbook serve's peak after {args.tour} saves to every chapter / one build's: "
                          f"{toured_rss:.0f} / {build_rss[which]:.0f} MiB = {toured_rss / build_rss[which]:.2f}x")
                if not have_mdbook:
                    print(f"  mdbook    skipped: {args.mdbook} not found")
                    continue
                m = describe("mdbook", results.get("mdbook"))
                if c and m:
                    print(f"  ratio mdbook/calcbook: {m / c:.1f}x  (mdBook watcher: {args.mdbook_watcher})")
        finally:
            browser.kill()
            browser.wait()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
