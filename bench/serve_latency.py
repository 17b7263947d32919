#!/usr/bin/env python3
"""Live-reload latency: calcbook serve against mdBook serve on the bundled book.

Copies the bundled book (book.toml, chapters/, data/, templates/) to a temporary folder, serves it
with each tool in turn, and ~20 times appends a line to its first chapter, timing from just before
the write until
- the server serves the updated HTML (the page is polled every millisecond or so), and
- the server tells the page (calcbook: the SSE `update` event on /__calcbook/events; mdBook: the
  `reload` message on its /__livereload websocket, measured when `websocket-client` is installed).
Prints the median of each and the ratio mdBook / calcbook.

    cargo build --release
    python3 bench/serve_latency.py [--calcbook target/release/calcbook] [--mdbook mdbook] [--edits 20]

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


def first_chapter(book):
    """The first chapter file listed in SUMMARY.md and its page."""
    with open(os.path.join(book, "chapters", "SUMMARY.md")) as f:
        m = re.search(r"\]\(([^)]+\.md)\)", f.read())
    rel = m.group(1)
    page = "index.html" if os.path.basename(rel).lower() == "readme.md" else rel[:-3] + ".html"
    return os.path.join(book, "chapters", rel), page


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


class Notices:
    """Timestamps of the server's change notifications, read by a background thread."""

    def __init__(self):
        self.times = []
        self.lock = threading.Lock()
        self.ready = threading.Event()

    def add(self):
        with self.lock:
            self.times.append(time.perf_counter())

    def first_after(self, t0, deadline):
        while time.perf_counter() < deadline:
            with self.lock:
                later = [t for t in self.times if t >= t0]
            if later:
                return later[0]
            time.sleep(0.0005)
        return None


def listen_sse(port, notices):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
    conn.request("GET", "/__calcbook/events", headers={"Accept": "text/event-stream"})
    res = conn.getresponse()
    notices.ready.set()
    while True:
        line = res.fp.readline()
        if not line:
            return
        if line.strip() == b"event: update":
            notices.add()


def listen_mdbook_ws(port, notices):
    try:
        import websocket
    except ImportError:
        return
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/__livereload", timeout=None)
    notices.ready.set()
    while True:
        try:
            msg = ws.recv()
        except Exception:
            return
        if "reload" in str(msg):
            notices.add()


def wait_served(poller, proc, name):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited with {proc.returncode}")
        status, _ = poller.get()
        if status == 200:
            return
        time.sleep(0.05)
    sys.exit(f"{name} did not start serving")


def measure(name, cmd, port, book, edits, pause, listener):
    chapter, page = first_chapter(book)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        poller = Poller(port, page)
        wait_served(poller, proc, name)
        notices = Notices()
        threading.Thread(target=listener, args=(port, notices), daemon=True).start()
        notices.ready.wait(5)
        time.sleep(1.0)  # let the watcher settle (mdBook's poll watcher scans first)
        with open(chapter) as f:
            original = f.read()
        html_ms, notice_ms = [], []
        for i in range(edits):
            marker = f"latency-marker-{name}-{i}-{time.time_ns()}"
            t0 = time.perf_counter()
            with open(chapter, "w") as f:
                f.write(original + f"\n{marker}\n")
            deadline = t0 + TIMEOUT
            served = None
            while time.perf_counter() < deadline:
                _, body = poller.get()
                if marker.encode() in body:
                    served = time.perf_counter()
                    break
                time.sleep(0.001)
            if served is None:
                print(f"  {name}: edit {i} not served within {TIMEOUT:.0f} s", file=sys.stderr)
                continue
            html_ms.append((served - t0) * 1000)
            told = notices.first_after(t0, time.perf_counter() + 2.0) if notices.ready.is_set() else None
            if told is not None:
                notice_ms.append((told - t0) * 1000)
            time.sleep(pause)
        return html_ms, notice_ms
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def describe(name, html_ms, notice_ms, what):
    if not html_ms:
        print(f"{name:9s} no edit was served")
        return None
    line = f"{name:9s} HTML served: median {statistics.median(html_ms):7.1f} ms (min {min(html_ms):.1f}, max {max(html_ms):.1f}, n={len(html_ms)})"
    if notice_ms:
        line += f"   {what}: median {statistics.median(notice_ms):7.1f} ms"
    print(line)
    return statistics.median(html_ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calcbook", default=os.path.join(REPO, "target", "release", "calcbook"))
    default_mdbook = shutil.which("mdbook") or "/work/tools/bin/mdbook"
    ap.add_argument("--mdbook", default=default_mdbook)
    ap.add_argument("--mdbook-watcher", default="poll", choices=["poll", "native"])
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between edits")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        calc_book = os.path.join(tmp, "calcbook")
        copy_book(calc_book, plain=False)
        port = free_port()
        c_html, c_sse = measure(
            "calcbook",
            [args.calcbook, "serve", calc_book, "--port", str(port)],
            port, calc_book, args.edits, args.pause, listen_sse,
        )
        m_html, m_ws = [], []
        have_mdbook = os.path.isfile(args.mdbook) or shutil.which(args.mdbook)
        if have_mdbook:
            md_book = os.path.join(tmp, "mdbook")
            copy_book(md_book, plain=True)
            port = free_port()
            m_html, m_ws = measure(
                "mdbook",
                [args.mdbook, "serve", md_book, "--port", str(port), "--hostname", "127.0.0.1",
                 "--watcher", args.mdbook_watcher],
                port, md_book, args.edits, args.pause, listen_mdbook_ws,
            )

    print(f"edit-to-update latency on the bundled book, {args.edits} edits each")
    c = describe("calcbook", c_html, c_sse, "SSE update event")
    if not have_mdbook:
        print(f"mdbook    skipped: {args.mdbook} not found (install with `cargo install mdbook --locked`)")
        return
    m = describe(f"mdbook", m_html, m_ws, "websocket reload")
    if c and m:
        print(f"ratio mdbook/calcbook (HTML served): {m / c:.1f}x  (mdBook watcher: {args.mdbook_watcher})")


if __name__ == "__main__":
    main()
