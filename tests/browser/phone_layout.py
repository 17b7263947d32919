#!/usr/bin/env python3
"""Browser test of the bundled book on a phone, in headless Chromium over the DevTools protocol.

Builds the bundled book (the repository root), serves the output over HTTP and opens every page at
390 px wide (and at 320 px, the narrowest phone still sold), asserting on each:
1. no page scrolls sideways (the document is no wider than the viewport);
2. every chart that shows is no wider than its figure's column, and nothing around it scrolls;
3. the smallest chart text renders at least 9 px tall, and every chart text lies inside its drawing;
4. every table fits its column or scrolls inside itself with a scroll cue and a sticky first column;
5. on the claims ledger, a verdict ("✓ refuted") never runs into its statement;
6. no calc pad cuts off a source line, note, value or record field list, and a statement's value
   sits after its last line.
Then it opens a traced value by keyboard and follows its link to the data-sources page, and checks
the search box: its stemmer agrees with the index's, results are grouped by page,
and a chapter ranks first for its own title.

With --screenshots DIR it also saves, for every page, the top of the page and every figure at
390 px and at 1280 px, in the light and the dark theme, for a person to look at.

    python3 tests/browser/phone_layout.py [--calcbook PATH] [--chromium PATH] [--screenshots DIR]

Needs `websocket-client` (tests/browser/requirements.txt); `tests/browser/run` sets it up.
"""

import argparse
import base64
import functools
import http.server
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading

from live_reload import CHROMIUM_FLAGS, TIMEOUT, Page, lines_of, wait_line

import urllib.request

MIN_TEXT_PX = 9.0

# Measures the page in the browser; returns a list of problems (empty when the page passes).
MEASURE = r"""
(() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [...document.querySelectorAll('main *')]
      .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1)
      .filter(e => !e.closest('.table-wrap, pre, .katex-display, math'))
      .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className);
    problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth} (${wide.join(', ')})`);
  }
  const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  for (const fig of document.querySelectorAll('figure.chart')) {
    const svgs = [...fig.querySelectorAll('svg')].filter(visible);
    if (svgs.length !== 1) problems.push(`${fig.id}: ${svgs.length} drawings show`);
    const col = fig.getBoundingClientRect();
    for (const svg of svgs) {
      const r = svg.getBoundingClientRect();
      if (r.width > col.width + 0.5) problems.push(`${fig.id}: drawing ${r.width}px in a ${col.width}px figure`);
      for (let e = svg.parentElement; e && e !== fig.parentElement; e = e.parentElement) {
        if (e.scrollWidth > e.clientWidth + 1) problems.push(`${fig.id}: ${e.tagName} scrolls`);
      }
      let smallest = Infinity;
      for (const t of svg.querySelectorAll('text')) {
        if (!t.textContent.trim()) continue;
        const m = t.getScreenCTM();
        const scale = Math.hypot(m.a, m.b);
        const px = parseFloat(getComputedStyle(t).fontSize) * scale;
        smallest = Math.min(smallest, px);
        const b = t.getBoundingClientRect();
        if (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1) {
          problems.push(`${fig.id}: text "${t.textContent.trim()}" is cut off by the drawing's edge`);
        }
      }
      if (smallest < 9) problems.push(`${fig.id}: smallest text ${smallest.toFixed(1)}px`);
    }
  }
  for (const table of document.querySelectorAll('main table')) {
    if (!visible(table)) continue;
    const host = table.parentElement;
    if (table.getBoundingClientRect().width > host.clientWidth + 1) {
      problems.push(`a table ${table.getBoundingClientRect().width}px wide overflows its ${host.clientWidth}px column`);
    }
    if (table.scrollWidth > table.clientWidth + 1) {
      if (!table.classList.contains('scrolls')) problems.push('a table scrolls sideways without a scroll cue');
      const first = table.querySelector('tbody tr > :first-child');
      if (first && getComputedStyle(first).position !== 'sticky') problems.push('a scrolling table\'s first column scrolls away');
    }
  }
  for (const row of document.querySelectorAll('table.ledger tbody tr:not(.ledger-chapter)')) {
    const box = cell => { const r = document.createRange(); r.selectNodeContents(cell); return r.getBoundingClientRect(); };
    const v = box(row.cells[0]), w = box(row.cells[1]);
    if (v.right > w.left - 4 && v.top < w.bottom && w.top < v.bottom) {
      problems.push(`ledger: "${row.cells[0].textContent.trim()}" runs into "${row.cells[1].textContent.trim().slice(0, 20)}"`);
    }
  }
  // A calc pad clips what overflows it: every row's source, note, value and field list stays
  // inside the pad, and a statement's value sits after (never between) its source lines.
  for (const pad of document.querySelectorAll('.calc-block')) {
    if (!visible(pad)) continue;
    const edge = pad.getBoundingClientRect().right + 1;
    for (const part of pad.querySelectorAll('.calc-src, .calc-note, .calc-out, .calc-record')) {
      const text = document.createRange();
      text.selectNodeContents(part);
      if (Math.max(part.getBoundingClientRect().right, text.getBoundingClientRect().right) > edge) {
        problems.push(`calc pad cuts off "${part.textContent.trim().slice(0, 30)}"`);
      }
    }
    for (const line of pad.querySelectorAll('.calc-line')) {
      const src = line.querySelector('.calc-src'), out = line.querySelector('.calc-out');
      if (src && out && out.getBoundingClientRect().bottom < src.getBoundingClientRect().bottom - 1) {
        problems.push(`calc value "${out.textContent.trim().slice(0, 20)}" sits above its statement's last line`);
      }
    }
  }
  return problems;
})()
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder):
    handler = functools.partial(Quiet, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def open_page(page, url, width, theme):
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=844 if width < 600 else 900,
              deviceScaleFactor=1, mobile=width < 600)
    page.call("Page.navigate", url=url)
    page.wait("document.readyState === 'complete'", f"{url} to load")
    page.js(f"document.documentElement.setAttribute('data-theme', '{theme}'); true")
    # Wait for webfonts and the layout pass after the theme switch.
    page.js("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r(true))))")


def screenshots(page, folder, name):
    os.makedirs(folder, exist_ok=True)

    def save(suffix, clip=None):
        params = {"format": "png"}
        if clip:
            params.update(clip=dict(clip, scale=1), captureBeyondViewport=True)
        try:
            data = page.call("Page.captureScreenshot", **params)["data"]
        except Exception as e:  # a screenshot is for a person to look at, not part of the test
            print(f"note - no screenshot {name}-{suffix}: {e}")
            return
        with open(os.path.join(folder, f"{name}-{suffix}.png"), "wb") as f:
            f.write(base64.b64decode(data))

    page.js("window.scrollTo(0, 0); true")
    save("top")
    rects = page.js("""[...document.querySelectorAll('figure.chart'), ...document.querySelectorAll('main table'),
        ...[...document.querySelectorAll('.claim')].slice(0, 2), ...[...document.querySelectorAll('.calc-block')].slice(0, 2)]
        .slice(0, 18).map((e, i) => { const r = e.getBoundingClientRect();
          return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: Math.min(r.height, 1400)}; })""")
    for i, r in enumerate(rects or []):
        if r["width"] > 0 and r["height"] > 0:
            save(f"part{i + 1}", r)


# Porter's classic examples: the search box's stemmer (calcbook.js) must agree with the index's
# (src/render/search.rs, whose unit test pins the same pairs).
STEMS = {"caresses": "caress", "ponies": "poni", "agreed": "agre", "motoring": "motor",
         "hopping": "hop", "filing": "file", "happy": "happi", "relational": "relat",
         "generalization": "gener", "adjustment": "adjust", "batching": "batch", "3.35": "3.35"}


def check_search(page, url):
    """The search box stems like the index, groups results by page and puts a chapter first for
    its own title."""
    open_page(page, url + "index.html", 1280, "light")
    stems = page.js(f"Object.fromEntries(Object.keys({json.dumps(STEMS)}).map(w => [w, window.calcbookStem(w)]))")
    if stems != STEMS:
        raise SystemExit(f"FAIL: calcbook.js stems {stems}, the index stems {STEMS}")
    print("ok - the search box stems words as the index does")

    def search(query):
        page.js("document.querySelector('#search-toggle, [data-search-open]').click(); true")
        page.js(f"{{ const i = document.getElementById('search-input'); i.value = {json.dumps(query)};"
                "i.dispatchEvent(new Event('input')); } true")
        page.wait(f"[...document.querySelectorAll('#search-results .search-result a')].some(a => a.href.includes('highlight=' + encodeURIComponent({json.dumps(query)})))",
                  f"results for {query}")
        return page.js("""[...document.querySelectorAll('#search-results > li')].map(li =>
            [li.className, li.textContent.trim().slice(0, 80), (li.querySelector('a') || {}).href || ''])""")

    results = search("batching")
    groups = [r for r in results if r[0] == "search-group"]
    if not groups or results[0][0] != "search-group":
        raise SystemExit(f"FAIL: results are not grouped by page: {results}")
    if not any("batch" in r[1].lower() and "batching" not in r[1].lower() for r in results):
        raise SystemExit(f"FAIL: 'batching' finds no variant of the word: {results}")
    print(f"ok - 'batching' finds its variants, in {len(groups)} page groups")
    first = next(r for r in search("roofline") if r[0] != "search-group")
    if "/roofline.html?" not in first[2] or "#" in first[2]:
        raise SystemExit(f"FAIL: the roofline chapter is not the first result for its title: {first}")
    print("ok - a chapter ranks first for its own title")


def check_trace(page, url, shots):
    """A traced value opens by keyboard and leads to its data entry on the sources page."""
    open_page(page, url + "batch.html", 390, "light")
    ok = page.js("""(() => { const b = [...document.querySelectorAll('button.calc-inline.traced')]
        .find(b => document.getElementById(b.getAttribute('popovertarget')).querySelector('a.data-ref'));
        if (!b) return false; b.scrollIntoView({block: 'center'}); b.focus(); return document.activeElement === b; })()""")
    if not ok:
        raise SystemExit("FAIL: no traced inline value with data to focus on batch.html")
    for kind in ("keyDown", "keyUp"):
        page.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                  windowsVirtualKeyCode=13, nativeVirtualKeyCode=13, **({"text": "\r"} if kind == "keyDown" else {}))
    page.wait("!!document.querySelector('.trace-card:popover-open')", "the trace card to open")
    href = page.js("document.querySelector('.trace-card:popover-open a.data-ref[href*=\"sources.html#\"]')?.href")
    if not href:
        raise SystemExit("FAIL: the opened trace card has no link to the data-sources page")
    if shots:
        screenshots(page, shots, "trace-open-390")
    page.call("Page.navigate", url=href)
    page.wait("document.readyState === 'complete'", "the sources page")
    target = href.split("#", 1)[1]
    if not page.js(f"!!document.getElementById({json.dumps(target)})"):
        raise SystemExit(f"FAIL: the sources page has no entry #{target}")
    print(f"ok - a traced value opens by keyboard and links to its data entry (#{target})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calcbook", default=os.environ.get("CALCBOOK", "target/debug/calcbook"))
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", shutil.which("chromium") or "chromium"))
    ap.add_argument("--book", default=".", help="the book to build (default: the bundled book)")
    ap.add_argument("--screenshots", help="folder to save screenshots of every page in")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="calcbook-phone-")
    browser = None
    try:
        out = os.path.join(tmp, "out")
        subprocess.run([args.calcbook, "build", args.book, "-d", out], check=True,
                       stdout=subprocess.DEVNULL)
        pages = sorted(p for p in os.listdir(out) if p.endswith(".html"))
        server, url = serve(out)

        browser = subprocess.Popen(
            [args.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={os.path.join(tmp, 'profile')}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        err = queue.Queue()
        threading.Thread(target=lines_of, args=(browser.stderr, err), daemon=True).start()
        devtools = wait_line(err, r"DevTools listening on ws://([^/]+)/", "Chromium's DevTools URL").group(1)
        targets = json.load(urllib.request.urlopen(f"http://{devtools}/json/list", timeout=TIMEOUT))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])

        failures = []
        charts = 0
        for width in (390, 320):
            for name in pages:
                for theme in ("light", "dark") if width == 390 else ("light",):
                    open_page(page, url + name, width, theme)
                    if theme == "light":
                        charts += page.js("document.querySelectorAll('figure.chart').length") if width == 390 else 0
                        problems = page.js(MEASURE)
                        failures += [f"{name} at {width}px: {p}" for p in problems]
                        print(f"{'ok' if not problems else 'FAIL'} - {name} at {width}px")
                    if args.screenshots and width == 390 and name != "print.html":
                        screenshots(page, args.screenshots, f"{name[:-5]}-390-{theme}")
        if args.screenshots:
            for name in pages:
                for theme in ("light", "dark"):
                    if name == "print.html":
                        continue  # the chapters again, in one long page
                    open_page(page, url + name, 1280, theme)
                    screenshots(page, args.screenshots, f"{name[:-5]}-1280-{theme}")
        check_search(page, url)
        check_trace(page, url, args.screenshots)
        if charts == 0:
            failures.append("the book has no charts to measure")
        if failures:
            raise SystemExit("FAIL:\n" + "\n".join(failures))
        print(f"ok - {len(pages)} pages and {charts} charts read on a phone")
        server.shutdown()
    finally:
        if browser:
            browser.terminate()
            try:
                browser.wait(timeout=5)
            except subprocess.TimeoutExpired:
                browser.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
