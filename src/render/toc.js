// calcbook: the book's table of contents, one file for every page (written to toc.js).
//
// Pages do not carry the sidebar: a book of n pages would weigh n² (mdBook 0.5 moved its sidebar
// into toc.js for the same reason). This script fills #sidebar-toc, marks the current page and
// opens its ancestors, and lists the page's own headings under it. It runs before calcbook.js,
// which wires the sidebar's buttons. Without JavaScript, #sidebar-toc keeps its link to toc.html.
(function () {
  "use strict";
  var TOC = __CALCBOOK_TOC__;
  var doc = document;
  var html = doc.documentElement;

  function fill() {
    var box = doc.getElementById("sidebar-toc");
    if (!box) return;
    var root = html.getAttribute("data-root") || "";
    var path = html.getAttribute("data-path") || "";
    box.innerHTML = TOC;
    var links = box.querySelectorAll("a.toc-link");
    var active = null;
    for (var i = 0; i < links.length; i++) {
      var href = links[i].getAttribute("href");
      if (href === path && !active) active = links[i];
      links[i].setAttribute("href", root + href);
    }
    if (!active) return;
    active.setAttribute("aria-current", "page");
    var item = active.closest(".toc-item");
    if (item) item.classList.add("is-active");
    for (var li = item; li; li = li.parentElement && li.parentElement.closest(".toc-item")) {
      if (!li.classList.contains("has-children")) continue;
      li.classList.add("is-expanded");
      var toggle = li.querySelector(":scope > .toc-row > .toc-toggle");
      if (toggle) toggle.setAttribute("aria-expanded", "true");
    }
    headings();
  }

  // The current page's section headings, under its entry (refreshed after a live update).
  function headings() {
    var item = doc.querySelector("#sidebar-toc .toc-item.is-active");
    if (!item) return;
    var old = item.querySelector(":scope > .toc-headings");
    if (old) old.remove();
    var found = doc.querySelectorAll("main .chapter h2[id], main .chapter h3[id]");
    if (!found.length) return;
    var list = doc.createElement("ol");
    list.className = "toc toc--nested toc-headings";
    list.setAttribute("aria-label", "On this page");
    Array.prototype.forEach.call(found, function (h) {
      var li = doc.createElement("li");
      li.className = "toc-item toc-heading toc-heading--" + h.tagName.charAt(1);
      var row = doc.createElement("div");
      row.className = "toc-row";
      var a = doc.createElement("a");
      a.className = "toc-link";
      a.href = "#" + h.id;
      var text = doc.createElement("span");
      text.className = "toc-text";
      text.textContent = h.textContent.trim();
      a.appendChild(text);
      row.appendChild(a);
      li.appendChild(row);
      list.appendChild(li);
    });
    var row = item.querySelector(":scope > .toc-row");
    item.insertBefore(list, row ? row.nextSibling : item.firstChild);
  }

  fill();
  doc.addEventListener("calcbook:updated", headings);
  window.calcbookToc = { refresh: headings };
})();
