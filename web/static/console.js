// The admin console, live: the dispute desk, the withdrawal queue and a dispute's page
// follow the console's event stream (/admin/events). The page is the one template of a
// row: on every event, and whenever the stream (re)opens, the page fetches itself and
// merges its table by row id — a changed row is replaced in place, a new one slides in
// at the top, a finished one leaves; on a dispute's page the message thread and the
// history are replaced. A reconnect therefore neither misses nor doubles a row.
(function () {
  "use strict";
  if (!window.OTCPay || !window.fetch) return;

  // A release's dialog repeats the amount typed in (or the whole order's).
  var release = document.querySelector("[data-confirm-template]");
  var amount = document.getElementById("amount");
  if (release && amount) {
    var sync = function () {
      var value = amount.value.trim() || release.getAttribute("data-full-amount");
      release.setAttribute("data-confirm-message", release.getAttribute("data-confirm-template").split("{amount}").join(value));
    };
    amount.addEventListener("input", sync);
    sync();
  }

  var table = document.querySelector("table[data-live-table]");
  var thread = document.getElementById("thread");
  if (!table && !thread) return;
  var busy = false, again = false;

  function rowsOf(tbody) {
    return Array.prototype.slice.call(tbody.querySelectorAll("tr[data-row-id]"));
  }

  function mergeTable(doc, announceNew) {
    var fresh = doc.querySelector("#" + table.id + " tbody");
    if (!fresh) return;
    var body = table.tBodies[0];
    var known = {};
    rowsOf(body).forEach(function (tr) { known[tr.getAttribute("data-row-id")] = tr.getAttribute("data-sig"); });
    var keep = {}, added = [];
    rowsOf(fresh).forEach(function (tr) {
      var id = tr.getAttribute("data-row-id");
      keep[id] = true;
      if (!(id in known)) added.push(tr);
      else if (known[id] !== tr.getAttribute("data-sig")) OTCPay.upsertRow(body, document.importNode(tr, true));
    });
    // New rows go on top; walk backwards so the page's order is kept.
    added.reverse().forEach(function (tr) { OTCPay.upsertRow(body, document.importNode(tr, true)); });
    Object.keys(known).forEach(function (id) { if (!keep[id]) OTCPay.removeRow(body, id); });
    if (announceNew && added.length) {
      var text = table.getAttribute("data-new-text") || "";
      OTCPay.chime();
      OTCPay.announce(text);
      OTCPay.notify(text, added[0].textContent.replace(/\s+/g, " ").trim().slice(0, 120), { tag: added[0].getAttribute("data-row-id") });
    }
  }

  function replace(doc, selector) {
    var fresh = doc.querySelector(selector);
    var mine = document.querySelector(selector);
    if (fresh && mine) mine.replaceWith(document.importNode(fresh, true));
  }

  function resync(announceNew) {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (table) mergeTable(doc, announceNew);
        if (thread) {
          replace(doc, "#thread");
          thread = document.getElementById("thread");
          var empty = document.getElementById("thread-empty");
          if (empty && thread.children.length) empty.hidden = true;
          replace(doc, "[aria-labelledby=history-h] .thread");
        }
        document.title = doc.title;
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; resync(announceNew); }
      });
  }

  var handlers = { onopen: function () { resync(false); } };
  ["dispute.opened", "withdrawal.review"].forEach(function (kind) {
    handlers[kind] = function () { resync(true); };
  });
  ["dispute.message", "withdrawal.approved", "withdrawal.updated", "lagged"].forEach(function (kind) {
    handlers[kind] = function () { resync(false); };
  });
  OTCPay.live("/admin/events", handlers);
})();
