// calcbook serve: live reload. Served at __calcbook/live.js by `calcbook serve` only.
//
// Listens to the server's event stream. When the build changes only this page's content, the nodes
// that changed (carried by the event; else the new page, fetched) are swapped into its <main> in place (scroll position kept, code re-highlighted);
// when more changed (the sidebar, stylesheets, scripts) the page reloads and scrolls back. A build
// with errors shows them in an overlay over the last good page, until a build succeeds again.
(function () {
  "use strict";
  if (window.calcbookLive) return;

  var BUILD = "__CALCBOOK_BUILD__"; // filled in by the server when it serves this file
  var doc = document;
  var html = doc.documentElement;
  // `data-root` is "" on a top-level page; an empty URL would resolve to the page itself, not
  // to its folder, so the root is always resolved as a folder.
  var base = new URL(html.getAttribute("data-root") || "./", window.location.href);
  var SCROLL_KEY = "calcbook-live-scroll";
  var live = { build: BUILD, updates: 0, spliced: 0, reloads: 0, source: null };
  window.calcbookLive = live;

  // This page's path in the site (`part/intro.html`), as the server names pages in its events.
  function currentPath() {
    // The page names itself (templates write its site path in `data-path`); the URL is a fallback
    // for pages that do not.
    var own = html.getAttribute("data-path");
    if (own) return own;
    var path = decodeURIComponent(window.location.pathname);
    var root = decodeURIComponent(base.pathname);
    var rel = path.indexOf(root) === 0 ? path.slice(root.length) : path.replace(/^\/+/, "");
    if (rel === "" || rel.charAt(rel.length - 1) === "/") rel += "index.html";
    return rel;
  }

  // Back to where the reader was after a reload this script asked for.
  try {
    var saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "null");
    sessionStorage.removeItem(SCROLL_KEY);
    if (saved && saved.path === window.location.pathname) {
      var restore = function () { window.scrollTo(saved.x, saved.y); };
      if (doc.readyState === "complete") restore(); else window.addEventListener("load", restore);
    }
  } catch (e) { /* storage may be disabled */ }

  function reload() {
    live.reloads += 1;
    try {
      sessionStorage.setItem(SCROLL_KEY, JSON.stringify({
        path: window.location.pathname, x: window.scrollX, y: window.scrollY
      }));
    } catch (e) { /* storage may be disabled */ }
    window.location.reload();
  }

  // highlight.js over new code blocks, as calcbook.js does on load.
  function highlight(root) {
    if (typeof window.calcbookHighlight === "function") { window.calcbookHighlight(root); return; }
    var hljs = window.hljs;
    if (!hljs || typeof hljs.highlightElement !== "function") return;
    root.querySelectorAll('pre code[class^="language-"], pre code[class*=" language-"]').forEach(function (el) {
      var m = /(?:^|\s)language-([\w+#.-]+)/.exec(el.className);
      var lang = m && m[1];
      if (!lang || lang === "calc" || el.classList.contains("hljs")) return;
      if (hljs.getLanguage && !hljs.getLanguage(lang)) return;
      try { hljs.highlightElement(el); } catch (e) { /* leave the block plain */ }
    });
  }

  // Whether two elements are the same but for their children: the same tag and attributes.
  function sameShell(a, b) {
    if (a.nodeType !== 1 || b.nodeType !== 1 || a.namespaceURI !== b.namespaceURI ||
        a.tagName !== b.tagName || a.attributes.length !== b.attributes.length) return false;
    for (var i = 0; i < b.attributes.length; i++) {
      var attr = b.attributes[i];
      if (a.getAttributeNS(attr.namespaceURI, attr.localName) !== attr.value) return false;
    }
    return true;
  }

  // Makes `parent`'s children equal to `fresh` (nodes of the fetched page) by replacing only the
  // run between the equal start and the equal end, descending while that run is one element on
  // both sides with the same tag and attributes: an edit to one paragraph replaces that paragraph,
  // and the rest of the page keeps its nodes, highlighting and layout. A node a script changed
  // (highlighted code) differs from the fetched one, so it is replaced by the server's version.
  function patch(parent, fresh) {
    var live = Array.prototype.slice.call(parent.childNodes);
    var start = 0, endOld = live.length, endNew = fresh.length;
    while (start < endOld && start < endNew && live[start].isEqualNode(fresh[start])) start++;
    while (endOld > start && endNew > start && live[endOld - 1].isEqualNode(fresh[endNew - 1])) {
      endOld--; endNew--;
    }
    if (endOld - start === 1 && endNew - start === 1 && sameShell(live[start], fresh[start])) {
      patch(live[start], Array.prototype.slice.call(fresh[start].childNodes));
      return;
    }
    var after = live[endOld] || null;
    for (var i = start; i < endOld; i++) parent.removeChild(live[i]);
    for (var j = start; j < endNew; j++) parent.insertBefore(doc.importNode(fresh[j], true), after);
    // New code blocks, even one this level is inside of; highlighted ones are skipped.
    if (endNew > start) highlight(parent);
  }

  // Applies the server's splice (src/serve/splice.rs): down `path`, replace the nodes between the
  // first `start` and the last `end` with those of `html`. False, touching nothing, where this
  // page's DOM is not the one the server cut (a script changed it, or the parser read it otherwise).
  function spliceIn(main, s) {
    var node = main;
    for (var i = 0; i < s.path.length; i++) {
      var step = s.path[i];
      if (node.childNodes.length !== step.count) return false;
      node = node.childNodes[step.index];
      if (!node || node.nodeType !== 1 || node.nodeName.toLowerCase() !== step.tag) return false;
    }
    var kids = node.childNodes;
    if (kids.length !== s.count) return false;
    var template = doc.createElement("template");
    template.innerHTML = s.html;
    var after = kids[s.count - s.end] || null;
    for (var k = s.count - s.end - 1; k >= s.start; k--) node.removeChild(kids[k]);
    node.insertBefore(doc.importNode(template.content, true), after);
    highlight(node);
    live.spliced += 1;
    return true;
  }

  // Puts new content into the page, where the reader is: `apply(main)` changes the <main>.
  function show(apply, title) {
    var main = doc.querySelector("main");
    if (!main) { reload(); return; }
    var x = window.scrollX, y = window.scrollY;
    if (!apply(main)) return;
    doc.title = title;
    window.scrollTo(x, y);
    live.updates += 1;
    doc.dispatchEvent(new CustomEvent("calcbook:updated", { detail: { path: currentPath() } }));
  }

  var pending = 0;
  // The update carried the page's new content: parse it here (a template's content runs no
  // scripts), without a round trip to the server.
  function swapIn(content) {
    ++pending; // a fetch still under way is older
    var title = doc.createElement("textarea");
    title.innerHTML = content.title;
    show(function (main) {
      if (content.splice && spliceIn(main, content.splice)) return true;
      if (content.main === undefined) { swapContent(); return false; }
      var template = doc.createElement("template");
      template.innerHTML = content.main;
      patch(main, Array.prototype.slice.call(template.content.childNodes));
      return true;
    }, title.value);
  }

  function swapContent() {
    var ticket = ++pending;
    var url = window.location.href.split("#")[0];
    return fetch(url, { cache: "no-store" }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.text();
    }).then(function (text) {
      if (ticket !== pending) return; // a newer update is on its way
      var fresh = new DOMParser().parseFromString(text, "text/html");
      var next = fresh.querySelector("main");
      if (!next) { reload(); return; }
      show(function (main) {
        patch(main, Array.prototype.slice.call(next.childNodes));
        return true;
      }, fresh.title);
    }).catch(function () { reload(); });
  }

  function onUpdate(data) {
    live.build = data.build;
    hideOverlay();
    var path = currentPath();
    if (data.reload || (data.removed || []).indexOf(path) >= 0) { reload(); return; }
    var change = (data.pages || {})[path];
    var content = (data.content || {})[path];
    if (change === "content" && content) swapIn(content);
    else if (change === "content") swapContent();
    else if (change) reload();
  }

  // ---- error overlay (styled by calcbook.css: #calcbook-overlay) ----
  function hideOverlay() {
    var el = doc.getElementById("calcbook-overlay");
    if (el) el.remove();
  }

  function showOverlay(errors) {
    hideOverlay();
    var el = doc.createElement("div");
    el.id = "calcbook-overlay";
    el.setAttribute("role", "alertdialog");
    el.setAttribute("aria-labelledby", "calcbook-overlay-title");
    var panel = doc.createElement("div");
    panel.className = "overlay-panel";
    var header = doc.createElement("div");
    header.className = "overlay-header";
    var title = doc.createElement("h2");
    title.className = "overlay-title";
    title.id = "calcbook-overlay-title";
    title.textContent = errors.length === 1 ? "The book has an error" : "The book has " + errors.length + " errors";
    var close = doc.createElement("button");
    close.type = "button";
    close.className = "overlay-close";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () { el.hidden = true; });
    header.appendChild(title);
    header.appendChild(close);
    var body = doc.createElement("div");
    body.className = "overlay-body";
    errors.forEach(function (err) {
      var pre = doc.createElement("pre");
      pre.textContent = err.text || ((err.location ? err.location + ": " : "") + err.message);
      if (err.location) pre.setAttribute("data-location", err.location);
      body.appendChild(pre);
    });
    var footer = doc.createElement("div");
    footer.className = "overlay-footer";
    footer.textContent = "The page shows the last good build. Save a fix and this goes away.";
    panel.appendChild(header);
    panel.appendChild(body);
    panel.appendChild(footer);
    el.appendChild(panel);
    doc.body.appendChild(el);
  }

  doc.addEventListener("keydown", function (e) {
    var el = doc.getElementById("calcbook-overlay");
    if (e.key === "Escape" && el && !el.hidden) el.hidden = true;
  });

  // ---- the event stream ----
  var retryTimer = null;
  function connect() {
    var source = new EventSource(new URL("__calcbook/events", base).href);
    live.source = source;
    source.addEventListener("hello", function (e) {
      var data = JSON.parse(e.data);
      // A build happened while this page was loading, or while the server was away.
      if (data.build !== live.build) reload();
    });
    source.addEventListener("update", function (e) { onUpdate(JSON.parse(e.data)); });
    source.addEventListener("failed", function (e) { showOverlay(JSON.parse(e.data).errors || []); });
    source.onerror = function () {
      // The browser retries by itself unless the stream was refused; then retry by hand.
      if (source.readyState === EventSource.CLOSED && !retryTimer) {
        retryTimer = window.setTimeout(function () { retryTimer = null; connect(); }, 1000);
      }
    };
  }
  connect();
})();
