#!/usr/bin/env python3
"""Browser test of `calcbook serve`'s live reload, in headless Chromium over the DevTools protocol.

Writes a small book to a temporary folder, serves it, opens a chapter, scrolls down and then:
1. edits the chapter: the new text appears in place, the scroll position is kept and the page was
   not reloaded (a marker variable set on the page survives), new code is highlighted;
   the same for a chapter that is not the first, one in a subfolder whose name needs URL escaping
   (`part two/näive chapter.md`), the landing page (README.md) and a generated page (the claims
   ledger); on the non-first chapters a broken calc block shows the overlay and its fix clears it;
2. breaks a link: the error overlay appears with the file, line and source excerpt, over the last
   good content;
3. fixes it: the overlay goes away and the fix shows, still without a reload;
4. adds a chapter to SUMMARY.md (the sidebar changes): the page reloads and scrolls back;
5. restarts the server: the page reconnects and reloads to show what changed meanwhile.

    python3 tests/browser/live_reload.py [--calcbook PATH] [--chromium PATH]

Needs `websocket-client` (tests/browser/requirements.txt); `tests/browser/run` sets it up.
"""

import argparse
import base64
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import websocket

TIMEOUT = 10.0

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,700",
    "--remote-debugging-port=0",
]

FILLER = "\n\n".join(
    f"Paragraph {i}: " + "batch memory bandwidth compute token expert rack latency " * 6
    for i in range(60)
)


def chapter(lead, extra=""):
    return f"# One\n\n{lead}\n\n{extra}\n\n{FILLER}\n"


def calc_chapter(lead, calc, claim="a gigabyte is small", section="Results"):
    block = f"```calc\n{calc}\nclaim \"{claim}\": 1 GB < 2 GB\n```"
    return f"# Chapter\n\n{lead}\n\n## {section}\n\n{block}\n\n{FILLER}\n"


def lines_of(pipe, out):
    for line in iter(pipe.readline, ""):
        out.put(line)


def wait_line(q, pattern, what, timeout=30.0):
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.time()))
        except queue.Empty:
            break
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise SystemExit(f"FAIL: {what} not seen; output so far:\n{''.join(seen)}")


class Page:
    """A DevTools session on one page target."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=TIMEOUT, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expr):
        res = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expr}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait(self, expr, what, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.js(expr):
                    return
            except RuntimeError:
                pass  # the page may be reloading
            time.sleep(0.05)
        raise SystemExit(f"FAIL: timed out waiting for {what} ({expr})")


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok - {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calcbook", default=os.environ.get("CALCBOOK", "target/debug/calcbook"))
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", shutil.which("chromium") or "chromium"))
    ap.add_argument("--screenshots", help="folder to save a screenshot of each step in")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="calcbook-browser-")
    procs = []
    try:
        book = os.path.join(tmp, "book")
        os.makedirs(os.path.join(book, "src"))
        write = lambda rel, text: open(os.path.join(book, rel), "w").write(text)
        # strict-links: a broken link is an error (the overlay), not just a warning as in mdBook.
        write("book.toml", '[book]\ntitle = "Browser test"\n[calcbook]\nstrict-links = true\n')
        summary = ("# Summary\n\n[Overview](README.md)\n\n- [One](one.md)\n- [Two](two.md)\n"
                   "- [Näive chapter](part%20two/näive%20chapter.md)\n")
        write("src/SUMMARY.md", summary)
        write("src/README.md", chapter("The landing page, ORIGINAL."))
        write("src/one.md", chapter("The original lead paragraph."))
        write("src/two.md", calc_chapter("Second, ORIGINAL.", "x = 2 GB"))
        os.makedirs(os.path.join(book, "src", "part two"))
        write("src/part two/näive chapter.md", calc_chapter("Deep, ORIGINAL.", "y = 3 s"))

        server = subprocess.Popen(
            [args.calcbook, "serve", book, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        procs.append(server)
        out = queue.Queue()
        threading.Thread(target=lines_of, args=(server.stdout, out), daemon=True).start()
        url = wait_line(out, r"(http://\S+)", "the served URL").group(1)

        profile = os.path.join(tmp, "profile")
        browser = subprocess.Popen(
            [args.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        procs.append(browser)
        err = queue.Queue()
        threading.Thread(target=lines_of, args=(browser.stderr, err), daemon=True).start()
        devtools = wait_line(err, r"DevTools listening on ws://([^/]+)/", "Chromium's DevTools URL").group(1)
        targets = json.load(urllib.request.urlopen(f"http://{devtools}/json/list", timeout=TIMEOUT))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])

        def shot(name):
            if args.screenshots:
                os.makedirs(args.screenshots, exist_ok=True)
                data = page.call("Page.captureScreenshot", format="png")["data"]
                with open(os.path.join(args.screenshots, name + ".png"), "wb") as f:
                    f.write(base64.b64decode(data))

        started = time.time()
        page.call("Page.navigate", url=url + "one.html")
        page.wait("document.readyState === 'complete' && !!window.calcbookLive", "the page to load")
        page.wait("window.calcbookLive.source && window.calcbookLive.source.readyState === 1", "the event stream")
        page.js("window.__marker = 'kept'; window.scrollTo(0, 1500); true")
        page.wait("window.scrollY === 1500", "the scroll")

        # 1. A content edit swaps <main> in place.
        write("src/one.md", chapter("The EDITED lead paragraph.", "```rust\nfn main() {}\n```"))
        page.wait("document.querySelector('main').textContent.includes('EDITED')", "the edited text")
        check(page.js("window.__marker") == "kept", "the edit did not reload the page")
        check(page.js("window.scrollY") == 1500, "the scroll position was kept")
        check(page.js("window.calcbookLive.updates") >= 1, "the content was swapped in place")
        shot("edited")
        page.wait("!!document.querySelector('main pre code.language-rust.hljs')", "the new code block's colours")
        check(True, "the new code block was highlighted (highlight.js loaded on demand)")
        check(page.js("(function(){var w = document.querySelector('main pre code.language-rust')"
                      ".closest('.code-wrap'); return !!(w && w.querySelector('.copy-button'));})()"),
              "the new code block got its copy button")

        # 2. An error shows the overlay over the last good content.
        write("src/one.md", chapter("Now with a [broken link](nope.md)."))
        page.wait("!!document.getElementById('calcbook-overlay')", "the error overlay")
        shot("overlay")
        text = page.js("document.getElementById('calcbook-overlay').textContent")
        check("nope.md" in text and "src/one.md:3" in text, "the overlay names the file, line and link")
        check("^" in text, "the overlay shows the source excerpt with carets")
        check(page.js("document.querySelector('main').textContent.includes('EDITED')"), "the last good content stays")
        check(page.js("window.__marker") == "kept", "the error did not reload the page")

        # 3. The fix removes the overlay.
        write("src/one.md", chapter("The FIXED lead paragraph."))
        page.wait("!document.getElementById('calcbook-overlay')", "the overlay to go away")
        page.wait("document.querySelector('main').textContent.includes('FIXED')", "the fixed text")
        check(page.js("window.__marker") == "kept", "the fix did not reload the page")
        check(page.js("window.scrollY") == 1500, "the scroll position was still kept")

        # 3b. A later edit replaces only what changed: the unchanged rest of <main> keeps its nodes.
        page.js("window.__tail = document.querySelector('main').lastElementChild; true")
        write("src/one.md", chapter("The lead paragraph, edited AGAIN."))
        page.wait("document.querySelector('main').textContent.includes('AGAIN')", "the second edit")
        check(page.js("document.querySelector('main').contains(window.__tail)"),
              "a second edit left the unchanged paragraphs' nodes in place")
        check(not page.js("document.querySelector('main').textContent.includes('FIXED')"),
              "the edited paragraph was replaced")
        check(page.js("window.calcbookLive.spliced") >= 1,
              "the update carried only the changed nodes (a splice), not the whole content")

        # 3c. A page whose DOM a script changed cannot take the splice: it fetches itself instead.
        spliced = page.js("window.calcbookLive.spliced")
        page.js("document.querySelector('main').appendChild(document.createElement('aside')); true")
        write("src/one.md", chapter("The lead paragraph, edited a THIRD time."))
        page.wait("document.querySelector('main').textContent.includes('THIRD')", "the edit of a page whose DOM a script changed")
        check(page.js("window.calcbookLive.spliced") == spliced and page.js("window.__marker") == "kept",
              "a page whose DOM a script changed took the edit from the page itself, without a reload")
        check(page.js("window.scrollY") == 1500, "the scroll position was kept through the fetch")

        # 1b. Every other kind of page updates in place too, and shows and clears the overlay.
        def open_page(rel):
            page.call("Page.navigate", url=url + urllib.parse.quote(rel))
            page.wait("document.readyState === 'complete' && !!window.calcbookLive"
                      " && window.calcbookLive.source && window.calcbookLive.source.readyState === 1",
                      f"{rel} to load and connect")
            page.js("window.__marker = 'kept'; window.scrollTo(0, 1200); true")
            return page.js("window.scrollY")

        def sees(text):
            return f"document.querySelector('main').textContent.includes({json.dumps(text)})"

        def edit_in_place(rel, src, text, marker, what):
            y = open_page(rel)
            write(src, text)
            page.wait(sees(marker), f"the edit of {what}")
            check(page.js("window.__marker") == "kept", f"{what}: the edit did not reload the page")
            check(page.js("window.scrollY") == y, f"{what}: the scroll position was kept")
            return y

        def overlay_round_trip(rel, src, broken, fixed, marker, what):
            write(src, broken)
            page.wait("!!document.getElementById('calcbook-overlay')", f"the overlay on {what}")
            text = page.js("document.getElementById('calcbook-overlay').textContent")
            check(src in text, f"{what}: the overlay names {src}")
            write(src, fixed)
            page.wait("!document.getElementById('calcbook-overlay')", f"the overlay on {what} to go")
            page.wait(sees(marker), f"the fixed text of {what}")
            check(page.js("window.__marker") == "kept", f"{what}: the break and the fix did not reload the page")

        def sidebar_marks(rel, href):
            page.call("Page.navigate", url=url + urllib.parse.quote(rel))
            page.wait("document.readyState === 'complete'", f"{rel} to load")
            got = page.js("(function(){var a = document.querySelector('#sidebar-toc .toc-item.is-active"
                          " > .toc-row > a[aria-current=page]'); return a && a.getAttribute('href');})()")
            check(got == href, f"the sidebar marks {rel} as the current page ({got!r})")
            heads = page.js("Array.from(document.querySelectorAll('#sidebar-toc .is-active > .toc-headings a'))"
                            ".map(function(a){return a.getAttribute('href');}).join(' ')")
            check(heads == "#results", f"the sidebar lists {rel}'s own headings ({heads!r})")

        sidebar_marks("two.html", "two.html")
        sidebar_marks("part two/näive chapter.html", "../part two/näive chapter.html")
        edit_in_place("two.html", "src/two.md", calc_chapter("Second, EDITED.", "x = 2 GB"),
                      "Second, EDITED.", "a chapter that is not the first")
        overlay_round_trip("two.html", "src/two.md",
                           calc_chapter("Second, EDITED.", "x = 2 GB + 3 s"),
                           calc_chapter("Second, FIXED.", "x = 2 GB"),
                           "Second, FIXED.", "a chapter that is not the first")
        deep = "part two/näive chapter.html"
        deep_src = "src/part two/näive chapter.md"
        edit_in_place(deep, deep_src, calc_chapter("Deep, EDITED.", "y = 3 s", section="Findings"),
                      "Deep, EDITED.", "a chapter in a subfolder with an escaped name")
        heads = page.js("Array.from(document.querySelectorAll('#sidebar-toc .is-active > .toc-headings a'))"
                        ".map(function(a){return a.getAttribute('href');}).join(' ')")
        check(heads == "#findings", f"the sidebar's headings follow a live edit ({heads!r})")
        overlay_round_trip(deep, deep_src, calc_chapter("Deep, EDITED.", "y = 3 s + 1 GB"),
                           calc_chapter("Deep, FIXED.", "y = 3 s"),
                           "Deep, FIXED.", "a chapter in a subfolder with an escaped name")
        edit_in_place("index.html", "src/README.md", chapter("The landing page, EDITED."),
                      "landing page, EDITED.", "the landing page")
        edit_in_place("claims.html", "src/two.md",
                      calc_chapter("Second, FIXED.", "x = 2 GB", claim="a gigabyte is SMALLER"),
                      "a gigabyte is SMALLER", "the claims ledger")
        page.call("Page.navigate", url=url + "one.html")
        page.wait("document.readyState === 'complete' && !!window.calcbookLive"
                  " && window.calcbookLive.source && window.calcbookLive.source.readyState === 1",
                  "one.html to load again")
        page.js("window.scrollTo(0, 1500); true")
        page.wait("window.scrollY === 1500", "the scroll")

        # 4. A sidebar change reloads the page, which scrolls back.
        write("src/three.md", "# Three\n")
        write("src/SUMMARY.md", summary + "- [Three](three.md)\n")
        page.wait("document.readyState === 'complete' && window.__marker === undefined"
                  " && !!document.querySelector('a[href$=\"three.html\"]')", "the reload with the new sidebar")
        page.wait("Math.abs(window.scrollY - 1500) < 5", "the scroll position restored after the reload")
        check(True, "a layout change reloaded the page and restored the scroll position")

        # 5. A restarted server is found again, and the page reloads to catch up.
        page.js("window.__marker = 'before restart'; true")
        server.kill()
        server.wait()
        port = url.rstrip("/").rsplit(":", 1)[1]
        write("src/one.md", chapter("Written while the server was DOWN."))
        server = subprocess.Popen(
            [args.calcbook, "serve", book, "--port", port],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        procs.append(server)
        page.wait("window.__marker === undefined && document.readyState === 'complete'"
                  " && document.querySelector('main').textContent.includes('DOWN')", "the reconnect and reload")
        check(True, "the page reconnected to the restarted server and reloaded")
        print(f"browser test passed in {time.time() - started:.1f} s")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
