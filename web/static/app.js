/* OTCPay UI kit — progressive enhancement driven by data attributes (see web/README.md).
   Every page works without it; the CSP is `script-src 'self'`, so nothing here needs inline
   script, inline handlers or eval. Page scripts (e.g. /static/desk.js) call window.OTCPay. */
(function () {
  'use strict';

  var doc = document;
  var $ = function (sel, root) { return (root || doc).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); };
  var STORE_SOUND = 'otcpay.sound';

  function csrfToken() {
    var meta = $('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  /* fetch with the session cookie and the CSRF header, so every state-changing call passes. */
  function request(url, opts) {
    opts = opts || {};
    var headers = new Headers(opts.headers || {});
    headers.set('X-CSRF-Token', csrfToken());
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    var init = Object.assign({}, opts, { headers: headers, credentials: 'same-origin' });
    if (opts.json !== undefined) {
      headers.set('Content-Type', 'application/json');
      init.body = JSON.stringify(opts.json);
      delete init.json;
    }
    return fetch(url, init);
  }

  /* ---------- Countdowns ---------- */
  // The server may state its clock (<meta name="server-time" content="ISO">) so a wrong
  // phone clock does not show a wrong deadline.
  var skew = 0;
  (function () {
    var meta = $('meta[name="server-time"]');
    var t = meta && Date.parse(meta.content);
    if (t) skew = t - Date.now();
  })();

  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function formatDuration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ':' + pad(m) : pad(m)) + ':' + pad(s % 60);
  }

  function tickCountdown(el) {
    var end = Date.parse(el.getAttribute('datetime'));
    if (isNaN(end)) return;
    if (!el.title) el.title = new Date(end).toLocaleString();
    var left = (end - (Date.now() + skew)) / 1000;
    var warn = Number(el.getAttribute('data-warn') || 300);
    var danger = Number(el.getAttribute('data-danger') || 60);
    el.classList.toggle('is-warning', left > danger && left <= warn);
    el.classList.toggle('is-danger', left > 0 && left <= danger);
    if (left <= 0) {
      if (!el.classList.contains('is-expired')) {
        el.classList.add('is-expired');
        el.textContent = el.getAttribute('data-expired-text') || 'expired';
        el.dispatchEvent(new CustomEvent('otcpay:expired', { bubbles: true }));
      }
      return;
    }
    el.classList.remove('is-expired');
    el.textContent = formatDuration(Math.ceil(left));
  }
  // One timer for the whole page; new rows are picked up on the next tick.
  function tickAll() { $$('time[data-countdown]').forEach(tickCountdown); }

  /* ---------- Copy buttons ---------- */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Fallback for plain-http deployments and old browsers.
    return new Promise(function (resolve, reject) {
      var area = doc.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'visually-hidden';
      doc.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = doc.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      ok ? resolve() : reject(new Error('copy failed'));
    });
  }

  function onCopy(btn) {
    var text = btn.getAttribute('data-copy');
    copyText(text).then(function () {
      if (!btn.dataset.label) btn.dataset.label = btn.textContent;
      btn.textContent = btn.getAttribute('data-copied-text') || 'Copied';
      btn.classList.add('is-copied');
      announce(btn.textContent);
      clearTimeout(btn._copyTimer);
      btn._copyTimer = setTimeout(function () {
        btn.textContent = btn.dataset.label;
        btn.classList.remove('is-copied');
      }, 2000);
    }, function () {
      // Could not copy: select the text instead so the user can copy it by hand.
      var target = btn.getAttribute('data-copy-target');
      var node = target && $(target);
      if (node) { var r = doc.createRange(); r.selectNodeContents(node); getSelection().removeAllRanges(); getSelection().addRange(r); }
    });
  }

  /* ---------- Confirmation dialogs ---------- */
  // A submit button with data-confirm="#dialog" opens that <dialog> instead of submitting.
  // The dialog holds a <form method="dialog">; its submit confirms. Its named fields
  // (e.g. Authentication code, Reason) are copied into the original form as hidden inputs.
  var pending = null; // { form, submitter }

  function openConfirm(form, submitter) {
    var dialog = $(submitter.getAttribute('data-confirm'));
    if (!dialog || typeof dialog.showModal !== 'function') return false;
    var message = submitter.getAttribute('data-confirm-message');
    var slot = $('[data-dialog-message]', dialog);
    if (slot) {
      // Keep the dialog's own text for triggers that bring no message of their own.
      if (slot.dataset.text === undefined) slot.dataset.text = slot.textContent;
      slot.textContent = message || slot.dataset.text;
    }
    var inner = $('form', dialog);
    if (inner) inner.reset();
    pending = { form: form, submitter: submitter };
    dialog.returnValue = '';
    dialog.showModal();
    var first = $('input, select, textarea', dialog) || $('[data-dialog-confirm], [type="submit"]', dialog);
    if (first) first.focus();
    return true;
  }

  function confirmDialog(dialog) {
    var p = pending;
    pending = null;
    dialog.close('confirm');
    if (!p) return;
    $$('input[data-confirm-copy]', p.form).forEach(function (i) { i.remove(); });
    $$('input[name], select[name], textarea[name]', dialog).forEach(function (field) {
      var hidden = doc.createElement('input');
      hidden.type = 'hidden';
      hidden.name = field.name;
      hidden.value = field.value;
      hidden.setAttribute('data-confirm-copy', '');
      p.form.appendChild(hidden);
    });
    p.form.dataset.confirmed = '1';
    p.form.requestSubmit(p.submitter);
  }

  function trapFocus(e) {
    var dialog = e.target.closest && e.target.closest('dialog[open]');
    if (!dialog || e.key !== 'Tab') return;
    var items = $$('a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select, textarea, [tabindex]:not([tabindex="-1"])', dialog);
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    if (e.shiftKey && doc.activeElement === first) { last.focus(); e.preventDefault(); }
    else if (!e.shiftKey && doc.activeElement === last) { first.focus(); e.preventDefault(); }
  }

  function initDialog(dialog) {
    var inner = $('form', dialog);
    if (inner) inner.addEventListener('submit', function (e) { e.preventDefault(); confirmDialog(dialog); });
    // Escape fires "cancel" and the native modal closes itself; give focus back to the trigger.
    // The close event is queued: when it arrives after a quick reopen, it is stale — ignore it.
    dialog.addEventListener('close', function () {
      if (dialog.open || dialog.returnValue === 'confirm' || !pending) return;
      pending.submitter.focus();
      pending = null;
    });
  }

  /* ---------- Rows (live tables) ---------- */
  // Insert a row, or replace the row with the same data-row-id: never a duplicate.
  function upsertRow(tbody, row, opts) {
    tbody = typeof tbody === 'string' ? $(tbody) : tbody;
    if (tbody.tagName === 'TABLE') tbody = tbody.tBodies[0];
    if (typeof row === 'string') {
      var t = doc.createElement('template');
      t.innerHTML = row.trim(); // trusted: the server's escaped HTML, never user text
      row = t.content.firstElementChild;
    }
    var id = row.getAttribute('data-row-id');
    var old = id && tbody.querySelector('tr[data-row-id="' + CSS.escape(id) + '"]');
    $$('tr[data-empty]', tbody).forEach(function (tr) { tr.hidden = true; });
    if (old) {
      old.replaceWith(row);
      flash(row, 'is-updated');
    } else {
      if (opts && opts.append) tbody.appendChild(row); else tbody.insertBefore(row, tbody.firstElementChild);
      flash(row, 'is-new');
    }
    tickAll();
    return row;
  }
  function removeRow(tbody, id) {
    tbody = typeof tbody === 'string' ? $(tbody) : tbody;
    var row = tbody.querySelector('[data-row-id="' + CSS.escape(id) + '"]');
    if (row) row.remove();
    if (!$('tr[data-row-id]', tbody)) $$('tr[data-empty]', tbody).forEach(function (tr) { tr.hidden = false; });
  }
  function flash(el, cls) {
    el.classList.remove(cls);
    void el.offsetWidth; // restart the animation
    el.classList.add(cls);
    setTimeout(function () { el.classList.remove(cls); }, 2600);
  }

  /* Fill a <template> from data: [data-field="k"] gets the text, [data-attr="name:k,…"]
     gets attributes. textContent only, so data can never become markup. */
  function render(template, data) {
    template = typeof template === 'string' ? $(template) : template;
    var node = template.content.firstElementChild.cloneNode(true);
    var all = [node].concat($$('*', node));
    all.forEach(function (el) {
      var f = el.getAttribute('data-field');
      if (f && data[f] != null) el.textContent = data[f];
      var a = el.getAttribute('data-attr');
      if (a) a.split(',').forEach(function (pair) {
        var kv = pair.split(':');
        if (data[kv[1]] != null) el.setAttribute(kv[0].trim(), data[kv[1].trim()]);
      });
    });
    return node;
  }

  /* ---------- Live updates (Server-Sent Events) ---------- */
  function setIndicator(state) {
    $$('[data-live-indicator]').forEach(function (el) {
      el.hidden = false;
      el.classList.toggle('is-live', state === 'live');
      el.classList.toggle('is-reconnecting', state !== 'live');
      var text = el.getAttribute(state === 'live' ? 'data-text-live' : 'data-text-reconnecting');
      var label = $('.live-text', el) || el;
      label.textContent = text || (state === 'live' ? 'Live' : 'Reconnecting…');
    });
  }

  // handlers: { eventName: function (data, event) }, "message" for unnamed events;
  // optional onopen / onerror. The browser reconnects by itself and sends Last-Event-ID;
  // when the server refuses (the source closes), retry later with a backoff.
  function live(url, handlers) {
    handlers = handlers || {};
    var source, delay = 2000, stopped = false;
    function connect() {
      source = new EventSource(url, { withCredentials: true });
      source.onopen = function () { delay = 2000; setIndicator('live'); if (handlers.onopen) handlers.onopen(); };
      source.onerror = function (e) {
        setIndicator('reconnecting');
        if (handlers.onerror) handlers.onerror(e);
        if (source.readyState === EventSource.CLOSED && !stopped) {
          setTimeout(connect, delay);
          delay = Math.min(delay * 2, 60000);
        }
      };
      Object.keys(handlers).forEach(function (name) {
        if (name === 'onopen' || name === 'onerror') return;
        source.addEventListener(name, function (e) {
          var data = e.data;
          try { data = JSON.parse(e.data); } catch (err) { /* plain text event */ }
          handlers[name](data, e);
        });
      });
    }
    setIndicator('reconnecting');
    connect();
    return { close: function () { stopped = true; source.close(); }, get source() { return source; } };
  }

  /* ---------- Sound, notifications, title ---------- */
  // Browsers only let audio start after a user gesture: remember the first one.
  var audio = null, interacted = false;
  function soundOn() { try { return localStorage.getItem(STORE_SOUND) !== 'off'; } catch (e) { return true; } }
  function onFirstGesture() {
    if (interacted) return;
    interacted = true;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) { audio = new Ctx(); audio.resume(); }
  }
  // Two soft sine notes (E6 then A6), about 0.7 s in all.
  function chime() {
    if (!audio || !soundOn()) return false;
    var t = audio.currentTime;
    [[1318.5, 0], [1760, 0.14]].forEach(function (n) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = n[0];
      gain.gain.setValueAtTime(0.0001, t + n[1]);
      gain.gain.exponentialRampToValueAtTime(0.18, t + n[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + n[1] + 0.55);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + n[1]);
      osc.stop(t + n[1] + 0.6);
    });
    return true;
  }
  function syncSoundToggles() {
    var on = soundOn();
    $$('[data-sound-toggle]').forEach(function (b) {
      b.hidden = false;
      b.setAttribute('aria-pressed', String(on));
      var text = b.getAttribute(on ? 'data-text-on' : 'data-text-off');
      if (text) b.textContent = text;
    });
  }
  function toggleSound() {
    try { localStorage.setItem(STORE_SOUND, soundOn() ? 'off' : 'on'); } catch (e) { /* private mode */ }
    syncSoundToggles();
    onFirstGesture();
    chime(); // let the user hear what they just turned on
  }

  function notify(title, body, opts) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return null;
    try {
      var n = new Notification(title, Object.assign({ body: body }, opts || {}));
      n.onclick = function () { window.focus(); n.close(); };
      return n;
    } catch (e) { return null; } // e.g. Android Chrome wants a service worker
  }
  function syncNotifyButtons() {
    var ask = 'Notification' in window && Notification.permission === 'default';
    $$('[data-notify-permission]').forEach(function (b) { b.hidden = !ask; });
  }

  var baseTitle = doc.title;
  function setCount(n) { doc.title = (n > 0 ? '(' + n + ') ' : '') + baseTitle; }

  // A polite live region so screen readers hear "Copied", new assignments, etc.
  function announce(text) {
    var region = $('#otcpay-announcer');
    if (!region) {
      region = doc.createElement('div');
      region.id = 'otcpay-announcer';
      region.className = 'visually-hidden';
      region.setAttribute('aria-live', 'polite');
      doc.body.appendChild(region);
    }
    region.textContent = '';
    setTimeout(function () { region.textContent = text; }, 50);
  }

  /* ---------- Wiring ---------- */
  function keepNext() {
    var here = location.pathname + location.search;
    $$('a[data-keep-next]').forEach(function (a) {
      var url = new URL(a.href, location.href);
      url.searchParams.set('next', here);
      a.href = url.pathname + url.search;
    });
  }

  /* ---------- Dispute threads ---------- */
  // A thread list with data-thread-events="<stream url>" follows new messages: on a
  // `dispute.message` event the page is read again and only the list is swapped, so a
  // message being typed below it is kept.
  function followThreads() {
    $$('[data-thread-events]').forEach(function (list) {
      var id = list.id;
      if (!id || !window.EventSource) return;
      var refresh = function () {
        fetch(location.pathname + location.search, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html) return;
            var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById(id);
            var current = doc.getElementById(id);
            if (fresh && current && fresh.innerHTML !== current.innerHTML) {
              current.innerHTML = fresh.innerHTML;
              announce(list.getAttribute('data-new-message') || '');
            }
          })
          .catch(function () {});
      };
      live(list.getAttribute('data-thread-events'), { 'dispute.message': refresh, lagged: refresh });
    });
  }

  function init() {
    followThreads();
    tickAll();
    setInterval(tickAll, 1000);
    $$('dialog').forEach(initDialog);
    keepNext();
    syncSoundToggles();
    syncNotifyButtons();

    doc.addEventListener('pointerdown', onFirstGesture, true);
    doc.addEventListener('keydown', onFirstGesture, true);
    doc.addEventListener('keydown', trapFocus);

    doc.addEventListener('click', function (e) {
      var t = e.target.closest('[data-copy], [data-sound-toggle], [data-notify-permission], [data-dismiss], [data-dialog-cancel]');
      if (!t) return;
      if (t.hasAttribute('data-copy')) onCopy(t);
      else if (t.hasAttribute('data-sound-toggle')) toggleSound();
      else if (t.hasAttribute('data-notify-permission')) Notification.requestPermission().then(syncNotifyButtons);
      else if (t.hasAttribute('data-dismiss')) t.closest(t.getAttribute('data-dismiss') || '.flash').remove();
      else if (t.hasAttribute('data-dialog-cancel')) t.closest('dialog').close('cancel');
    });

    // Capture phase: decide before any page script sees the submit.
    doc.addEventListener('submit', function (e) {
      var form = e.target, btn = e.submitter;
      if (form.dataset.confirmed) { delete form.dataset.confirmed; return; }
      if (btn && btn.hasAttribute('data-confirm') && openConfirm(form, btn)) e.preventDefault();
    }, true);

    // A section with data-refresh-every="N" (deposits still confirming) reloads the page
    // after N seconds, unless the reader is in a form field.
    var refresh = $('[data-refresh-every]');
    if (refresh) {
      setTimeout(function () {
        var active = doc.activeElement;
        if (!active || !/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) location.reload();
      }, 1000 * Math.max(5, Number(refresh.getAttribute('data-refresh-every')) || 10));
    }

    // A checkbox with data-autosubmit (the Online switch) posts its form when changed.
    doc.addEventListener('change', function (e) {
      if (e.target.hasAttribute && e.target.hasAttribute('data-autosubmit')) e.target.form.requestSubmit();
    });
  }

  window.OTCPay = {
    csrfToken: csrfToken,
    fetch: request,
    formatDuration: formatDuration,
    refreshCountdowns: tickAll,
    copy: copyText,
    live: live,
    upsertRow: upsertRow,
    removeRow: removeRow,
    render: render,
    chime: chime,
    soundOn: soundOn,
    notify: notify,
    setCount: setCount,
    announce: announce,
    confirm: openConfirm
  };

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', init); else init();
})();
