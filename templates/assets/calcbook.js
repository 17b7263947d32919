/* calcbook default theme behaviour. No dependencies; every feature checks
 * that its elements exist, so the same file serves chapter, print and 404 pages. */
(function () {
  "use strict";

  var doc = document;
  var html = doc.documentElement;
  var root = html.getAttribute("data-root") || "";
  var WIDE = "(min-width: 900px)";

  function $(sel, ctx) { return (ctx || doc).querySelector(sel); }
  function $all(sel, ctx) { return Array.prototype.slice.call((ctx || doc).querySelectorAll(sel)); }
  function store(key, value) {
    try {
      if (value === undefined) return localStorage.getItem(key);
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (e) { /* storage may be unavailable (file://, privacy mode) */ }
    return null;
  }
  function isWide() { return !window.matchMedia || window.matchMedia(WIDE).matches; }
  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* ---------------------------------------------------------------- */
  /* Theme                                                            */
  /* ---------------------------------------------------------------- */
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function themeSetting() {
    var s = store("calcbook-theme");
    return s === "light" || s === "dark" ? s : "system";
  }
  function applyTheme(setting) {
    var dark = setting === "dark" || (setting === "system" && darkQuery && darkQuery.matches);
    html.setAttribute("data-theme", dark ? "dark" : "light");
    html.setAttribute("data-theme-setting", setting);
    $all("[data-theme-choice]").forEach(function (b) {
      b.setAttribute("aria-checked", b.getAttribute("data-theme-choice") === setting ? "true" : "false");
    });
    var toggle = $("#theme-toggle");
    if (toggle) {
      var label = "Colour theme: " + setting + (setting === "system" ? " (" + (dark ? "dark" : "light") + ")" : "");
      toggle.setAttribute("aria-label", label);
      toggle.setAttribute("title", label);
    }
  }
  function setTheme(setting) {
    store("calcbook-theme", setting === "system" ? null : setting);
    applyTheme(setting);
  }
  applyTheme(themeSetting());
  if (darkQuery) {
    var onSchemeChange = function () { if (themeSetting() === "system") applyTheme("system"); };
    if (darkQuery.addEventListener) darkQuery.addEventListener("change", onSchemeChange);
    else if (darkQuery.addListener) darkQuery.addListener(onSchemeChange);
  }
  // Paper is light whatever the screen theme.
  var themeBeforePrint = null;
  window.addEventListener("beforeprint", function () {
    themeBeforePrint = html.getAttribute("data-theme");
    html.setAttribute("data-theme", "light");
  });
  window.addEventListener("afterprint", function () {
    if (themeBeforePrint) html.setAttribute("data-theme", themeBeforePrint);
    themeBeforePrint = null;
  });

  (function themeMenu() {
    var toggle = $("#theme-toggle"), menu = $("#theme-menu");
    if (!toggle || !menu) return;
    var items = $all("[data-theme-choice]", menu);
    function open() {
      menu.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      var current = $('[aria-checked="true"]', menu) || items[0];
      if (current) current.focus();
    }
    function close(refocus) {
      if (menu.hidden) return;
      menu.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      if (refocus) toggle.focus();
    }
    toggle.addEventListener("click", function (e) {
      e.stopPropagation();
      if (menu.hidden) open(); else close(false);
    });
    items.forEach(function (b, i) {
      b.addEventListener("click", function () {
        setTheme(b.getAttribute("data-theme-choice"));
        close(true);
      });
      b.addEventListener("keydown", function (e) {
        var next = null;
        if (e.key === "ArrowDown") next = items[(i + 1) % items.length];
        else if (e.key === "ArrowUp") next = items[(i - 1 + items.length) % items.length];
        else if (e.key === "Home") next = items[0];
        else if (e.key === "End") next = items[items.length - 1];
        else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(true); return; }
        else if (e.key === "Tab") { close(false); return; }
        if (next) { e.preventDefault(); next.focus(); }
      });
    });
    doc.addEventListener("click", function (e) {
      if (!menu.hidden && !menu.contains(e.target)) close(false);
    });
  })();

  /* ---------------------------------------------------------------- */
  /* Sidebar                                                          */
  /* ---------------------------------------------------------------- */
  (function sidebar() {
    var bar = $("#sidebar"), toggle = $("#sidebar-toggle");
    if (!bar) return;
    var scroller = $(".sidebar-scroll", bar) || bar;

    function visible() {
      return isWide() ? !html.classList.contains("sidebar-hidden") : html.classList.contains("sidebar-open");
    }
    function sync() {
      if (toggle) toggle.setAttribute("aria-expanded", visible() ? "true" : "false");
    }
    function openDrawer() {
      html.classList.add("sidebar-open");
      sync();
      var target = $(".toc-item.is-active > .toc-row > .toc-link", bar) || $("a, button", bar);
      if (target) window.setTimeout(function () { target.focus({ preventScroll: true }); }, 30);
    }
    function closeDrawer(refocus) {
      if (!html.classList.contains("sidebar-open")) return;
      html.classList.remove("sidebar-open");
      sync();
      if (refocus && toggle) toggle.focus();
    }
    if (toggle) {
      toggle.addEventListener("click", function () {
        if (isWide()) {
          var hide = !html.classList.contains("sidebar-hidden");
          html.classList.toggle("sidebar-hidden", hide);
          store("calcbook-sidebar", hide ? "hidden" : null);
          sync();
        } else if (html.classList.contains("sidebar-open")) {
          closeDrawer(false);
        } else {
          openDrawer();
        }
      });
    }
    $all("[data-sidebar-close]").forEach(function (el) {
      el.addEventListener("click", function () { closeDrawer(el.tagName === "BUTTON"); });
    });
    bar.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest("a");
      if (link && !isWide()) closeDrawer(false);
    });
    doc.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && html.classList.contains("sidebar-open")) closeDrawer(true);
    });
    if (window.matchMedia) {
      var mq = window.matchMedia(WIDE);
      var onChange = function () { html.classList.remove("sidebar-open"); sync(); };
      if (mq.addEventListener) mq.addEventListener("change", onChange);
      else if (mq.addListener) mq.addListener(onChange);
    }
    sync();

    // Collapsible sections.
    $all(".toc-toggle", bar).forEach(function (btn) {
      btn.addEventListener("click", function () {
        var item = btn.closest(".toc-item");
        if (!item) return;
        var open = !item.classList.contains("is-expanded");
        item.classList.toggle("is-expanded", open);
        btn.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });

    // Bring the current chapter into view inside the sidebar (not the page).
    var active = $(".toc-item.is-active > .toc-row", bar);
    if (active && scroller.scrollHeight > scroller.clientHeight) {
      var rowTop = active.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
      if (rowTop + active.offsetHeight > scroller.clientHeight * 0.7) {
        scroller.scrollTop = Math.max(0, rowTop - scroller.clientHeight / 3);
      }
    }
  })();

  /* Top bar border once the page scrolls. */
  (function topbar() {
    var bar = $(".topbar");
    if (!bar) return;
    var ticking = false;
    function update() { ticking = false; bar.classList.toggle("is-scrolled", window.scrollY > 4); }
    window.addEventListener("scroll", function () {
      if (!ticking) { ticking = true; window.requestAnimationFrame(update); }
    }, { passive: true });
    update();
  })();

  /* ---------------------------------------------------------------- */
  /* Code: highlight.js and copy buttons                              */
  /* ---------------------------------------------------------------- */
  // highlight.js is loaded only by pages with code to colour (most pages have none, and one request
  // fewer lets a page load on a server that serves few connections at once).
  var HIGHLIGHT_JS = doc.currentScript && doc.currentScript.getAttribute("data-highlight-js");
  var hljsLoading = null;
  function highlightIn(root) {
    var todo = Array.prototype.filter.call(
      root.querySelectorAll('pre code[class^="language-"], pre code[class*=" language-"]'),
      function (el) {
        var m = /(?:^|\s)language-([\w+#.-]+)/.exec(el.className);
        return m && m[1] !== "calc" && !el.classList.contains("hljs");
      });
    if (!todo.length) return;
    var hljs = window.hljs;
    if (!hljs && HIGHLIGHT_JS) {
      if (!hljsLoading) {
        hljsLoading = doc.createElement("script");
        hljsLoading.src = HIGHLIGHT_JS;
        doc.head.appendChild(hljsLoading);
      }
      hljsLoading.addEventListener("load", function () { highlightIn(root); });
      return;
    }
    if (!hljs || typeof hljs.highlightElement !== "function") return;
    if (hljs.configure) hljs.configure({ ignoreUnescapedHTML: true });
    todo.forEach(function (el) {
      var lang = /(?:^|\s)language-([\w+#.-]+)/.exec(el.className)[1];
      if (hljs.getLanguage && !hljs.getLanguage(lang)) return;
      if (el.querySelector(".boring")) {
        // highlightElement would flatten the hidden-line spans: highlight each run on its own.
        try {
          Array.prototype.slice.call(el.childNodes).forEach(function (node) {
            var host = node.nodeType === 3 ? doc.createElement("span") : node;
            var text = node.textContent;
            host.innerHTML = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
            if (node.nodeType === 3) el.replaceChild(host, node);
          });
          el.classList.add("hljs");
        } catch (e) { /* leave the block plain */ }
        return;
      }
      try { hljs.highlightElement(el); } catch (e) { /* leave the block plain */ }
    });
  }
  window.calcbookHighlight = highlightIn;

  // Gives a page's code blocks their buttons: at load, and after a live update (serve) swapped
  // new blocks in. Blocks that have them already are left alone.
  function enhanceCode() {
    // Rust lines hidden with `# ` (mdBook's "boring" lines): a button shows and hides them.
    $all("pre > code .boring").forEach(function (span) {
      var pre = span.parentNode.parentNode;
      if (pre.querySelector(".boring-toggle")) return;
      var btn = doc.createElement("button");
      btn.type = "button";
      btn.className = "boring-toggle";
      btn.textContent = "Show hidden lines";
      btn.setAttribute("aria-expanded", "false");
      btn.addEventListener("click", function () {
        var shown = pre.classList.toggle("show-boring");
        btn.textContent = shown ? "Hide lines" : "Show hidden lines";
        btn.setAttribute("aria-expanded", shown ? "true" : "false");
      });
      pre.insertBefore(btn, pre.firstChild);
    });
    if (doc.body.classList.contains("page-print")) return;
    $all(".chapter pre").forEach(function (pre) {
      var codeEl = pre.querySelector("code");
      var parent = pre.parentNode;
      if (!codeEl || !parent || (parent.classList && (parent.classList.contains("calc-error") || parent.classList.contains("code-wrap")))) return;
      var wrap = doc.createElement("div");
      wrap.className = "code-wrap";
      pre.parentNode.insertBefore(wrap, pre);
      wrap.appendChild(pre);
      var btn = doc.createElement("button");
      btn.type = "button";
      btn.className = "copy-button";
      btn.textContent = "Copy";
      btn.setAttribute("aria-label", "Copy code to clipboard");
      wrap.appendChild(btn);
      btn.addEventListener("click", function () {
        var text = codeEl.textContent.replace(/\n$/, "");
        var done = function () {
          btn.textContent = "Copied";
          btn.classList.add("is-copied");
          window.setTimeout(function () { btn.textContent = "Copy"; btn.classList.remove("is-copied"); }, 1500);
        };
        var fallback = function () {
          var ta = doc.createElement("textarea");
          ta.value = text;
          ta.setAttribute("readonly", "");
          ta.style.position = "fixed";
          ta.style.opacity = "0";
          doc.body.appendChild(ta);
          ta.select();
          try { doc.execCommand("copy"); done(); } catch (e) { /* ignore */ }
          doc.body.removeChild(ta);
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
  }
  highlightIn(doc);
  enhanceCode();
  doc.addEventListener("calcbook:updated", enhanceCode);

  /* ---------------------------------------------------------------- */
  /* Wide tables: a table that scrolls sideways says so (class        */
  /* "scrolls": a faded right edge and a sticky first column, in      */
  /* calcbook.css) until it is scrolled to its end ("at-end").        */
  /* ---------------------------------------------------------------- */
  (function wideTables() {
    function mark() {
      $all(".chapter table").forEach(function (t) {
        var scrolls = t.scrollWidth > t.clientWidth + 1;
        t.classList.toggle("scrolls", scrolls);
        t.classList.toggle("at-end", scrolls && t.scrollLeft + t.clientWidth >= t.scrollWidth - 2);
        if (scrolls && !t.hasAttribute("tabindex")) t.setAttribute("tabindex", "0");
        if (!t.dataset.scrollWatched) {
          t.dataset.scrollWatched = "1";
          t.addEventListener("scroll", function () {
            t.classList.toggle("at-end", t.scrollLeft + t.clientWidth >= t.scrollWidth - 2);
          }, { passive: true });
        }
      });
    }
    mark();
    window.addEventListener("resize", mark);
    doc.addEventListener("calcbook:updated", mark);
  })();

  /* ---------------------------------------------------------------- */
  /* Keyboard: previous / next chapter                                */
  /* ---------------------------------------------------------------- */
  doc.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    if (isTyping(e.target) || html.classList.contains("search-open")) return;
    var theme = $("#theme-menu");
    if (theme && !theme.hidden) return;
    var link = $(e.key === "ArrowLeft" ? '.chapter-nav a[rel="prev"]' : '.chapter-nav a[rel="next"]');
    if (link && link.href) { e.preventDefault(); window.location.href = link.href; }
  });

  /* ---------------------------------------------------------------- */
  /* Search                                                           */
  /* ---------------------------------------------------------------- */
  var MAX_RESULTS = 20;

  function tokenize(query) {
    return String(query || "").toLowerCase()
      .split(/[\s,;:!?"“”'‘’()\[\]{}<>]+/)
      .map(function (t) { return t.replace(/^[.\-_/=+*]+|[.\-_/=+*]+$/g, ""); })
      .filter(function (t, i, all) { return t.length > 0 && all.indexOf(t) === i; });
  }

  function isWordChar(c) { return !!c && /[0-9a-z\u00c0-\uffff_]/i.test(c); }

  // Porter's stemmer (1980), the same algorithm as src/render/search.rs applies to the index:
  // words with anything but ASCII letters, and words of two letters or fewer, are their own stems.
  function stem(w) {
    if (w.length <= 2 || !/^[a-z]+$/.test(w)) return w;
    var b = w, j = 0;
    function cons(i) {
      var c = b.charAt(i);
      if ("aeiou".indexOf(c) >= 0) return false;
      return c === "y" ? (i === 0 || !cons(i - 1)) : true;
    }
    function m() {
      var n = 0, i = 0;
      while (i < j && cons(i)) i++;
      for (;;) {
        while (i < j && !cons(i)) i++;
        if (i >= j) return n;
        while (i < j && cons(i)) i++;
        n++;
      }
    }
    function vowelInStem() { for (var i = 0; i < j; i++) if (!cons(i)) return true; return false; }
    function doubleCons(end) { return end >= 2 && b.charAt(end - 1) === b.charAt(end - 2) && cons(end - 1); }
    function cvc(end) {
      return end >= 3 && cons(end - 1) && !cons(end - 2) && cons(end - 3) && "wxy".indexOf(b.charAt(end - 1)) < 0;
    }
    function ends(s) {
      if (b.length >= s.length && b.slice(b.length - s.length) === s) { j = b.length - s.length; return true; }
      return false;
    }
    function replace(rules, minM) {
      for (var i = 0; i < rules.length; i += 2) {
        if (ends(rules[i])) { if (m() > minM) b = b.slice(0, j) + rules[i + 1]; return; }
      }
    }
    // Step 1ab: plurals, -ed, -ing.
    if (b.charAt(b.length - 1) === "s") {
      if (ends("sses")) b = b.slice(0, -2);
      else if (ends("ies")) b = b.slice(0, j) + "i";
      else if (b.charAt(b.length - 2) !== "s") b = b.slice(0, -1);
    }
    if (ends("eed")) { if (m() > 0) b = b.slice(0, -1); }
    else if ((ends("ed") || ends("ing")) && vowelInStem()) {
      b = b.slice(0, j);
      var len = b.length;
      if (ends("at") || ends("bl") || ends("iz")) b += "e";
      else if (doubleCons(len)) { if ("lsz".indexOf(b.charAt(len - 1)) < 0) b = b.slice(0, -1); }
      else { j = len; if (m() === 1 && cvc(len)) b += "e"; }
    }
    if (b.length <= 1) return b;
    // Step 1c: a final y after a vowel in the stem.
    if (ends("y") && vowelInStem()) b = b.slice(0, -1) + "i";
    replace(["ational", "ate", "tional", "tion", "enci", "ence", "anci", "ance", "izer", "ize",
      "bli", "ble", "alli", "al", "entli", "ent", "eli", "e", "ousli", "ous", "ization", "ize",
      "ation", "ate", "ator", "ate", "alism", "al", "iveness", "ive", "fulness", "ful",
      "ousness", "ous", "aliti", "al", "iviti", "ive", "biliti", "ble", "logi", "log"], 0);
    replace(["icate", "ic", "ative", "", "alize", "al", "iciti", "ic", "ical", "ic", "ful", "", "ness", ""], 0);
    var step4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
      "ou", "ism", "ate", "iti", "ous", "ive", "ize"];
    for (var k = 0; k < step4.length; k++) {
      if (ends(step4[k])) {
        var ionOk = step4[k] !== "ion" || (j > 0 && "st".indexOf(b.charAt(j - 1)) >= 0);
        if (ionOk && m() > 1) b = b.slice(0, j);
        break;
      }
    }
    // Step 5: a final e, a final double l.
    j = b.length;
    if (b.charAt(b.length - 1) === "e") {
      j = b.length - 1;
      var mm = m();
      if (mm > 1 || (mm === 1 && !cvc(b.length - 1))) b = b.slice(0, -1);
    }
    j = b.length;
    if (b.charAt(b.length - 1) === "l" && doubleCons(b.length) && m() > 1) b = b.slice(0, -1);
    return b;
  }
  window.calcbookStem = stem;

  // Scores one field of stems (" stem stem ") for one query stem: 3 for a whole word, 1 for the
  // start of one (the word being typed), 0 when absent.
  function stemScore(stems, s) {
    if (stems.indexOf(" " + s + " ") >= 0) return 3;
    return stems.indexOf(" " + s) >= 0 ? 1 : 0;
  }

  function prepare(index) {
    var docs = (index && index.docs) || [];
    return docs.map(function (d) {
      var p = String(d.p || ""), h = String(d.h || ""), b = String(d.b || "");
      return { p: p, h: h, u: String(d.u || ""), b: b, bl: b.toLowerCase(),
        ps: " " + tokenize(p).map(stem).join(" ") + " ", hs: String(d.hs || " "), bs: String(d.bs || " ") };
    });
  }

  // Ranks sections: every query word must appear (as a stem, the start of a word, or inside the
  // text as typed, for numbers like "3.35"); a section's own heading counts most, then its page's
  // title (most of all for the page's opening section), then its text.
  function rank(docs, query) {
    var terms = tokenize(query);
    if (!terms.length) return { terms: terms, hits: [] };
    var stems = terms.map(stem);
    var phrase = String(query).toLowerCase().trim().replace(/\s+/g, " ");
    var hits = [];
    for (var i = 0; i < docs.length; i++) {
      var d = docs[i], score = 0, ok = true, opening = d.u.indexOf("#") < 0, titled = true;
      for (var k = 0; k < stems.length; k++) {
        var hs = stemScore(d.hs, stems[k]), ps = stemScore(d.ps, stems[k]), bs = stemScore(d.bs, stems[k]);
        if (!bs && d.bl.indexOf(terms[k]) >= 0) bs = 0.5;
        if (!hs && !ps && !bs) { ok = false; break; }
        if (!ps) titled = false;
        score += hs * 10 + ps * (opening ? 8 : 2) + bs;
      }
      if (!ok) continue;
      if (titled && opening) score += 20;
      if (terms.length > 1 && phrase && d.bl.indexOf(phrase) >= 0) score += 6;
      score -= Math.min(d.b.length / 4000, 1);
      hits.push({ doc: d, score: score, order: i });
    }
    hits.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    return { terms: terms, stems: stems, hits: hits.slice(0, MAX_RESULTS), total: hits.length };
  }

  // Orders hits by page (a page where its best hit ranks), keeping each page's hits in rank order.
  function groupByPage(hits) {
    var pages = [], byPage = {};
    hits.forEach(function (h) {
      var path = h.doc.u.split("#")[0];
      if (!byPage[path]) { byPage[path] = []; pages.push(path); }
      byPage[path].push(h);
    });
    return pages.map(function (p) { return byPage[p]; });
  }

  // Escapes `text` and wraps every occurrence of any term in <mark>.
  function markTerms(text, terms) {
    var lower = text.toLowerCase(), out = "", pos = 0;
    while (pos < text.length) {
      var best = -1, len = 0;
      for (var i = 0; i < terms.length; i++) {
        var at = lower.indexOf(terms[i], pos);
        if (at >= 0 && (best < 0 || at < best || (at === best && terms[i].length > len))) { best = at; len = terms[i].length; }
      }
      if (best < 0) break;
      out += escapeHtml(text.slice(pos, best)) + "<mark>" + escapeHtml(text.slice(best, best + len)) + "</mark>";
      pos = best + len;
    }
    return out + escapeHtml(text.slice(pos));
  }

  function snippet(d, terms, width) {
    var b = d.b.replace(/\s+/g, " ").trim(), bl = b.toLowerCase();
    if (!b) return "";
    var first = -1;
    for (var i = 0; i < terms.length; i++) {
      var at = bl.indexOf(terms[i]);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    var start = 0;
    if (first > width * 0.3) {
      start = first - Math.floor(width * 0.3);
      var sp = b.indexOf(" ", start);
      if (sp >= 0 && sp < first) start = sp + 1;
    }
    var end = Math.min(b.length, start + width);
    if (end < b.length) {
      var sp2 = b.lastIndexOf(" ", end);
      if (sp2 > start + width * 0.6) end = sp2;
    }
    return (start > 0 ? "… " : "") + markTerms(b.slice(start, end), terms) + (end < b.length ? " …" : "");
  }

  function resultHref(u, terms) {
    var hash = "", q = u, at = u.indexOf("#");
    if (at >= 0) { hash = u.slice(at); q = u.slice(0, at); }
    if (terms.length) q += (q.indexOf("?") >= 0 ? "&" : "?") + "highlight=" + encodeURIComponent(terms.join(" "));
    return root + q + hash;
  }

  (function search() {
    var dialog = $("#search"), input = $("#search-input"), list = $("#search-results"), status = $("#search-status");
    if (!dialog || !input || !list) return;
    var docs = null, loading = false, failed = false, activeIndex = -1, lastFocus = null, timer = 0;

    function setStatus(text) { if (status) status.textContent = text; }

    function loadIndex(then) {
      if (docs) { then(); return; }
      if (window.calcbookSearchIndex) { docs = prepare(window.calcbookSearchIndex); then(); return; }
      if (loading) return;
      loading = true;
      setStatus("Loading the search index…");
      var s = doc.createElement("script");
      s.src = root + "searchindex.js";
      s.async = true;
      s.onload = function () {
        loading = false;
        if (window.calcbookSearchIndex) { docs = prepare(window.calcbookSearchIndex); setStatus(""); then(); }
        else { failed = true; setStatus("The search index is empty or invalid."); }
      };
      s.onerror = function () {
        loading = false;
        failed = true;
        setStatus("The search index (searchindex.js) could not be loaded.");
      };
      doc.head.appendChild(s);
    }

    function setActive(i) {
      var items = $all(".search-result", list);
      if (!items.length) { activeIndex = -1; input.removeAttribute("aria-activedescendant"); return; }
      activeIndex = (i + items.length) % items.length;
      items.forEach(function (li, k) {
        var on = k === activeIndex;
        li.classList.toggle("is-active", on);
        li.setAttribute("aria-selected", on ? "true" : "false");
      });
      var cur = items[activeIndex];
      input.setAttribute("aria-activedescendant", cur.id);
      if (cur.scrollIntoView) cur.scrollIntoView({ block: "nearest" });
    }

    function render() {
      var q = input.value;
      list.innerHTML = "";
      activeIndex = -1;
      input.removeAttribute("aria-activedescendant");
      if (!docs) return;
      if (!q.trim()) { setStatus(""); input.setAttribute("aria-expanded", "false"); return; }
      var res = rank(docs, q);
      if (!res.hits.length) {
        setStatus("No results for “" + q.trim() + "”.");
        input.setAttribute("aria-expanded", "false");
        return;
      }
      setStatus(res.total > res.hits.length
        ? "Showing the best " + res.hits.length + " of " + res.total + " results"
        : res.total + (res.total === 1 ? " result" : " results"));
      var frag = doc.createDocumentFragment();
      var marks = res.terms.concat(res.stems.filter(function (s) { return res.terms.indexOf(s) < 0; }));
      var k = 0;
      groupByPage(res.hits).forEach(function (group) {
        var head = doc.createElement("li");
        head.className = "search-group";
        head.setAttribute("role", "presentation");
        head.textContent = group[0].doc.p;
        frag.appendChild(head);
        group.forEach(function (h) {
          var n = k++;
          var li = doc.createElement("li");
          li.className = "search-result";
          li.id = "search-result-" + n;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          var a = doc.createElement("a");
          a.href = resultHref(h.doc.u, marks);
          a.tabIndex = -1;
          var title = h.doc.h ? markTerms(h.doc.h, marks) : markTerms(h.doc.p, marks);
          a.innerHTML = '<span class="search-result-title">' + title + "</span>" +
            '<span class="search-result-snippet">' + snippet(h.doc, marks, 170) + "</span>";
          a.addEventListener("mousemove", function () { if (activeIndex !== n) setActive(n); });
          a.addEventListener("click", function () { close(false); });
          li.appendChild(a);
          frag.appendChild(li);
        });
      });
      list.appendChild(frag);
      input.setAttribute("aria-expanded", "true");
      setActive(0);
    }

    function open(initial) {
      // `[output.html.search] enable = false`: the book has no index and no search.
      if (html.hasAttribute("data-search-disabled")) return;
      if (!dialog.hidden) { input.focus(); input.select(); return; }
      lastFocus = doc.activeElement;
      dialog.hidden = false;
      html.classList.add("search-open");
      if (typeof initial === "string" && initial) input.value = initial;
      input.focus();
      input.select();
      loadIndex(render);
    }
    function close(refocus) {
      if (dialog.hidden) return;
      dialog.hidden = true;
      html.classList.remove("search-open");
      if (refocus !== false && lastFocus && lastFocus.focus) lastFocus.focus();
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { if (failed) return; loadIndex(render); }, 60);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); setActive(activeIndex + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); setActive(activeIndex - 1); }
      else if (e.key === "Enter") {
        var cur = $(".search-result.is-active a", list) || $(".search-result a", list);
        if (cur) { e.preventDefault(); close(false); window.location.href = cur.href; }
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        close(true);
      }
    });
    dialog.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); close(true); return; }
      if (e.key === "Tab") { e.preventDefault(); input.focus(); } // keep focus inside the dialog
    });
    $all("[data-search-close]", dialog).forEach(function (el) {
      el.addEventListener("click", function () { close(true); });
    });
    var toggle = $("#search-toggle");
    if (toggle) toggle.addEventListener("click", function () { open(); });
    $all("[data-open-search]").forEach(function (el) {
      el.addEventListener("click", function () { open(); });
    });

    doc.addEventListener("keydown", function (e) {
      if (e.defaultPrevented) return;
      var k = e.key;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (k === "k" || k === "K")) {
        e.preventDefault();
        if (dialog.hidden) open(); else close(true);
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || !dialog.hidden) return;
      if (k === "/" || k === "s" || k === "S") { e.preventDefault(); open(); }
    });

    // Expose for other scripts (e.g. live reload) without making it API.
    window.calcbookSearch = { open: open, close: close, rank: function (q) { return docs ? rank(docs, q) : null; } };
  })();

  /* ---------------------------------------------------------------- */
  /* Highlight the searched terms on the target page                  */
  /* ---------------------------------------------------------------- */
  (function highlightFromQuery() {
    var raw = null;
    try { raw = new URLSearchParams(window.location.search).get("highlight"); } catch (e) { return; }
    var terms = tokenize(raw);
    var area = $(".chapter") || $("main");
    if (!terms.length || !area) return;
    var SKIP = { SCRIPT: 1, STYLE: 1, MATH: 1, SVG: 1, TEXTAREA: 1, BUTTON: 1, MARK: 1 };
    var walker = doc.createTreeWalker(area, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        for (var p = n.parentNode; p && p !== area; p = p.parentNode) {
          if (SKIP[(p.nodeName || "").toUpperCase()]) return NodeFilter.FILTER_REJECT;
        }
        return n.nodeValue && n.nodeValue.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    var nodes = [], n;
    while ((n = walker.nextNode())) nodes.push(n);
    var marks = [];
    nodes.forEach(function (node) {
      var text = node.nodeValue, lower = text.toLowerCase(), pos = 0, frag = null;
      while (pos < text.length) {
        var best = -1, len = 0;
        for (var i = 0; i < terms.length; i++) {
          var at = lower.indexOf(terms[i], pos);
          if (at >= 0 && (best < 0 || at < best || (at === best && terms[i].length > len))) { best = at; len = terms[i].length; }
        }
        if (best < 0) break;
        frag = frag || doc.createDocumentFragment();
        if (best > pos) frag.appendChild(doc.createTextNode(text.slice(pos, best)));
        var m = doc.createElement("mark");
        m.className = "search-hit";
        m.textContent = text.slice(best, best + len);
        frag.appendChild(m);
        marks.push(m);
        pos = best + len;
      }
      if (!frag) return;
      if (pos < text.length) frag.appendChild(doc.createTextNode(text.slice(pos)));
      node.parentNode.replaceChild(frag, node);
    });
    if (!marks.length) return;

    var bar = doc.createElement("div");
    bar.className = "search-hl-bar";
    bar.setAttribute("role", "status");
    bar.innerHTML = '<span class="search-hl-terms">' + marks.length + (marks.length === 1 ? " match" : " matches") +
      " for <strong>" + escapeHtml(terms.join(" ")) + "</strong></span>" +
      '<button type="button" aria-label="Clear search highlighting">Clear</button>';
    doc.body.appendChild(bar);

    function clear() {
      marks.forEach(function (m) {
        var parent = m.parentNode;
        if (!parent) return;
        parent.replaceChild(doc.createTextNode(m.textContent), m);
        parent.normalize();
      });
      marks = [];
      if (bar.parentNode) bar.parentNode.removeChild(bar);
      doc.removeEventListener("keydown", onKey);
      try {
        var url = new URL(window.location.href);
        url.searchParams.delete("highlight");
        window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
      } catch (e) { /* file:// may refuse; harmless */ }
    }
    function onKey(e) {
      if (e.key === "Escape" && !html.classList.contains("search-open") && !isTyping(e.target)) clear();
    }
    bar.querySelector("button").addEventListener("click", clear);
    doc.addEventListener("keydown", onKey);

    // Without an anchor, bring the first hit into view.
    if (!window.location.hash && marks[0].scrollIntoView) {
      window.requestAnimationFrame(function () { marks[0].scrollIntoView({ block: "center" }); });
    }
  })();

  /* ---------------------------------------------------------------- */
  /* Print page                                                       */
  /* ---------------------------------------------------------------- */
  (function printPage() {
    $all("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    var sections = $all(".print-chapter[data-path]");
    if (!sections.length) return;
    // Map every chapter's URL to its section, then point links between chapters at the sections.
    var base = window.location.href.replace(/[?#].*$/, "");
    var byUrl = {};
    function strip(u) { return u.replace(/[?#].*$/, ""); }
    sections.forEach(function (s) {
      try { byUrl[strip(new URL(s.getAttribute("data-path"), base).href)] = s; } catch (e) { /* ignore */ }
    });
    sections.forEach(function (s) {
      var here;
      try { here = new URL(s.getAttribute("data-path"), base).href; } catch (e) { return; }
      $all("a[href]", s).forEach(function (a) {
        var href = a.getAttribute("href");
        if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href) && !/^file:/i.test(href)) return;
        var url;
        try { url = new URL(href, here); } catch (e) { return; }
        var target = byUrl[strip(url.href)];
        if (!target) {
          // Keep other relative links (assets, CSV files) working from the book root.
          if (href.charAt(0) !== "#") a.setAttribute("href", url.href);
          return;
        }
        var frag = url.hash ? decodeURIComponent(url.hash.slice(1)) : "";
        var el = frag ? target.querySelector('[id="' + frag.replace(/["\\]/g, "\\$&") + '"]') : null;
        a.setAttribute("href", "#" + (el ? el.id : target.id));
      });
      // Resolve images relative to their chapter too.
      $all("img[src]", s).forEach(function (img) {
        var src = img.getAttribute("src");
        if (!src || /^(?:[a-z][a-z0-9+.-]*:|\/)/i.test(src)) return;
        try { img.setAttribute("src", new URL(src, here).href); } catch (e) { /* ignore */ }
      });
    });
  })();
})();
