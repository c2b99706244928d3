// The merchant's orders, live. On every order event of the merchant's stream, and
// whenever the stream (re)opens, the list fetches its own URL (same filters, same page)
// and merges the rows by order id: a row whose status changed is replaced in place (with
// a brief highlight), a new order that matches the filters slides in at the top, and
// nothing under the user's cursor is reloaded. Whatever happened while the connection
// was down is read on reconnecting.
(function () {
  "use strict";
  var table = document.getElementById("merchant-orders");
  if (!table || !window.OTCPay) return;
  var body = table.tBodies[0];
  var firstPage = !/[?&]starting_after=/.test(location.search);
  var mode = table.getAttribute("data-live-mode") || "live";
  var busy = false, again = false;

  function rowsOf(tbody) {
    return Array.prototype.slice.call(tbody.querySelectorAll("tr[data-row-id]"));
  }

  function merge(fresh) {
    var known = {};
    rowsOf(body).forEach(function (tr) { known[tr.getAttribute("data-row-id")] = tr.getAttribute("data-sig"); });
    var added = [];
    rowsOf(fresh).forEach(function (tr) {
      var id = tr.getAttribute("data-row-id");
      if (!(id in known)) { if (firstPage) added.push(tr); }
      else if (known[id] !== tr.getAttribute("data-sig")) OTCPay.upsertRow(body, document.importNode(tr, true));
    });
    // The page lists newest first; insert the oldest new one first so the newest ends on top.
    added.reverse().forEach(function (tr) { OTCPay.upsertRow(body, document.importNode(tr, true)); });
  }

  function resync() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("#merchant-orders tbody");
        if (fresh) merge(fresh);
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; resync(); }
      });
  }

  function onOrder(data) {
    // Events of the other mode's orders do not concern this list.
    if (data && typeof data.livemode === "boolean" && (data.livemode ? "live" : "test") !== mode) return;
    resync();
  }

  var handlers = { onopen: resync, lagged: resync };
  ["order.assigned", "order.paid", "order.completed", "order.cancelled", "order.expired",
   "order.disputed", "order.dispute_resolved", "order.requeued"].forEach(function (kind) {
    handlers[kind] = onOrder;
  });
  OTCPay.live("/merchant/events", handlers);
})();
