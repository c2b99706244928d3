/* Gallery only (not served): makes the static sample data move, the way a page script such
   as desk.js would use window.OTCPay. */
(function () {
  'use strict';
  // Sample deadlines are written as "seconds from now" so every state shows on each load.
  document.querySelectorAll('time[data-demo-in]').forEach(function (el) {
    var at = new Date(Date.now() + Number(el.getAttribute('data-demo-in')) * 1000);
    el.setAttribute('datetime', at.toISOString());
  });
  OTCPay.refreshCountdowns();

  var n = 0;
  var waiting = document.querySelectorAll('#assigned tbody tr[data-row-id]').length;
  OTCPay.setCount(waiting);

  var add = document.getElementById('demo-add');
  if (add) add.addEventListener('click', function () {
    n += 1;
    var ref = 'N' + (4000 + n);
    var row = OTCPay.render('#row-template', {
      id: 'demo-' + n,
      reference: ref,
      usdt: (50 * n).toFixed(2),
      fiat: (359 * n).toFixed(2),
      expires: new Date(Date.now() + 15 * 60 * 1000).toISOString(),
      message: 'Release ' + (50 * n).toFixed(2) + ' USDT for order ' + ref + '?'
    });
    OTCPay.upsertRow('#assigned', row);
    OTCPay.setCount(++waiting);
    OTCPay.chime();
    OTCPay.notify('New order ' + ref, (359 * n).toFixed(2) + ' CNY — 15:00 left', { tag: ref });
    OTCPay.announce('New order ' + ref);
  });

  var live = document.getElementById('demo-live');
  if (live) live.addEventListener('click', function () {
    var el = document.querySelector('[data-live-indicator]');
    var on = !el.classList.contains('is-live');
    el.classList.toggle('is-live', on);
    el.classList.toggle('is-reconnecting', !on);
    el.querySelector('.live-text').textContent = el.getAttribute(on ? 'data-text-live' : 'data-text-reconnecting');
  });
})();
