// The cashier page, live: when the order's state changes (Server-Sent Events, with a
// status poll as fallback), the page fetches itself and swaps the cashier block in
// place, so the customer never loses their place and never needs to reload.
(function () {
  "use strict";
  var root = document.getElementById("cashier");
  if (!root) return;
  var token = root.getAttribute("data-token");
  var status = root.getAttribute("data-status");
  var refreshing = false;

  function refresh() {
    if (refreshing) return;
    refreshing = true;
    fetch("/pay/" + token, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("cashier");
        if (!fresh) return;
        root.replaceWith(fresh);
        root = fresh;
        status = fresh.getAttribute("data-status");
        document.title = doc.title;
        if (window.OTCPay) window.OTCPay.refreshCountdowns();
      })
      .catch(function () {})
      .then(function () { refreshing = false; });
  }

  function check() {
    fetch("/pay/" + token + "/status", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && s.status !== status) refresh(); })
      .catch(function () {});
  }

  if (window.EventSource) {
    var events = new EventSource("/pay/" + token + "/events");
    // Whatever changed before the stream was (re)connected is read on opening it.
    events.addEventListener("open", check);
    ["order.assigned", "order.paid", "order.completed", "order.expired", "order.cancelled",
     "order.disputed", "order.dispute_resolved", "lagged"].forEach(function (kind) {
      // Any event re-reads the page: an on-chain order's confirmations change while its
      // status stays `paid`.
      events.addEventListener(kind, function () { refresh(); });
    });
  }
  // The fallback when events cannot flow (a proxy that buffers, a dropped connection).
  setInterval(check, 5000);
})();
