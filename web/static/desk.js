// The acceptor's desk, live. The page is the one template of a row: on every event of
// the acceptor's stream, and whenever the stream (re)opens, the desk fetches itself and
// merges the rows by order id — a row that changed is replaced in place, a new one slides
// in at the top (with a chime and a notification), a finished one leaves. Whatever
// happened while the connection was down is therefore read on reconnecting: no row is
// missed, none is doubled.
(function () {
  "use strict";
  var table = document.getElementById("orders");
  if (!table || !window.OTCPay) return;
  var body = table.tBodies[0];
  var busy = false, again = false;

  function rowsOf(tbody) {
    return Array.prototype.slice.call(tbody.querySelectorAll("tr[data-row-id]"));
  }

  function merge(fresh, announceNew) {
    var known = {};
    rowsOf(body).forEach(function (tr) { known[tr.getAttribute("data-row-id")] = tr.getAttribute("data-sig"); });
    var keep = {}, added = [];
    // Oldest first in the page; upsertRow puts new rows on top, so walk in page order.
    rowsOf(fresh).forEach(function (tr) {
      var id = tr.getAttribute("data-row-id");
      keep[id] = true;
      if (!(id in known)) added.push(tr);
      else if (known[id] !== tr.getAttribute("data-sig")) OTCPay.upsertRow(body, document.importNode(tr, true));
    });
    added.forEach(function (tr) { OTCPay.upsertRow(body, document.importNode(tr, true)); });
    Object.keys(known).forEach(function (id) { if (!keep[id]) OTCPay.removeRow(body, id); });
    if (announceNew && added.length) {
      var first = added[0];
      var amount = first.querySelector(".amount");
      var text = (amount ? amount.textContent.replace(/\s+/g, " ").trim() : "");
      OTCPay.chime();
      OTCPay.notify(table.getAttribute("data-new-order") || "New order", text, { tag: first.getAttribute("data-row-id") });
      OTCPay.announce(text);
    }
  }

  function resync(announceNew) {
    if (busy) { again = true; return; }
    busy = true;
    fetch("/acceptor", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("#orders tbody");
        if (fresh) merge(fresh, announceNew);
        var balance = doc.querySelector("[aria-labelledby=balance-h]");
        var mine = document.querySelector("[aria-labelledby=balance-h]");
        if (balance && mine) mine.replaceWith(document.importNode(balance, true));
        document.title = doc.title;
        OTCPay.refreshCountdowns();
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; resync(announceNew); }
      });
  }

  var handlers = { onopen: function () { resync(false); } };
  ["order.assigned"].forEach(function (kind) { handlers[kind] = function () { resync(true); }; });
  ["order.paid", "order.completed", "order.cancelled", "order.expired", "order.disputed",
   "order.dispute_resolved", "order.requeued", "lagged"].forEach(function (kind) {
    handlers[kind] = function () { resync(false); };
  });
  OTCPay.live("/api/v1/acceptor/events", handlers);
})();
