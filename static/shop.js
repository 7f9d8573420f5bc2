// queueless kitchen display. The page works without this script (plain
// forms, 303 back to /shop); this adds: actions without a reload (the page
// keeps its audio permission and scroll), shown at once and corrected by
// the redrawn queue; the queue redrawn on every order event; ages ticking,
// amber past the shop's usual preparation time and red past twice; new
// orders ringing until acknowledged (and announced to screen readers);
// sound on/off remembered.
// Item page: the photo is sent as the raw body of
// PUT /api/shop/items/{id}/photo (the server reads its format from the
// bytes); the page shows the server's answer.
(function () {
  'use strict';
  var form = document.getElementById('item-photo');
  if (!form || !window.fetch) { return; }
  var t = window.queuelessT;
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var file = form.querySelector('input[type=file]').files[0];
    var out = document.getElementById('photo-state');
    if (!file) { out.textContent = t('shop.photo_choose'); return; }
    fetch('/api/shop/items/' + form.getAttribute('data-item') + '/photo', {
      method: 'PUT', body: file, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/octet-stream' }
    }).then(function (r) {
      return r.json().then(function (b) {
        if (r.ok) {
          out.textContent = t('shop.photo_saved');
          var img = document.getElementById('photo-now');
          img.src = b.photo;
          img.hidden = false;
        } else {
          out.textContent = b.message || t('shop.photo_refused');
        }
      });
    }, function () { out.textContent = t('shop.no_answer'); });
  });
})();

(function () {
  'use strict';
  if (document.body.getAttribute('data-page') !== 'dashboard') { return; }
  function $(id) { return document.getElementById(id); }
  var t = window.queuelessT;
  var queue = $('queue');
  var banner = $('live-state');
  var ack = $('ack');
  var ackCount = $('ack-count');
  var soundBtn = $('sound');
  var unlock = $('unlock');
  var errBox = $('act-error');
  var saved = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };

  // The server's clock: ages tick from it, not from a tablet's wrong clock.
  var skew = 0;
  function readClock() {
    var k = $('kds');
    if (k) { skew = Number(k.getAttribute('data-now')) - Date.now(); }
  }
  function now() { return Date.now() + skew; }

  // Sound: on unless turned off (remembered); the browser may still block
  // it until a tap, and only then the page asks for one.
  var Ctx = window.AudioContext || window.webkitAudioContext;
  var ctx = null;
  var soundOn = saved.get('ql-sound') !== 'off';
  function running() { return ctx !== null && ctx.state === 'running'; }
  function showSound() {
    if (!Ctx) { soundBtn.hidden = true; unlock.hidden = true; return; }
    soundBtn.hidden = false;
    soundBtn.textContent = soundOn ? t('shop.sound_on') : t('shop.sound_off');
    soundBtn.setAttribute('aria-pressed', soundOn ? 'true' : 'false');
    unlock.hidden = !(soundOn && !running());
  }
  function startAudio() {
    if (!Ctx || !soundOn) { showSound(); return; }
    if (!ctx) {
      ctx = new Ctx();
      ctx.onstatechange = showSound;
    }
    if (ctx.state !== 'running' && ctx.resume) {
      ctx.resume().then(showSound, showSound);
    }
    showSound();
  }
  soundBtn.addEventListener('click', function () {
    soundOn = !soundOn;
    saved.set('ql-sound', soundOn ? 'on' : 'off');
    startAudio();
  });
  unlock.addEventListener('click', startAudio);
  // Any tap is a gesture the browser counts: take it to unblock audio.
  document.addEventListener('pointerdown', function () { if (soundOn && !running()) { startAudio(); } }, true);
  function beep() {
    if (!soundOn || !running()) { return; }
    var o = ctx.createOscillator();
    var g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.3;
    o.connect(g);
    g.connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.25);
  }

  // New orders ring until acknowledged (remembered for this tab).
  var acked = {};
  try { acked = JSON.parse(window.sessionStorage.getItem('ql-acked') || '{}'); } catch (e) { acked = {}; }
  var ringing = null;
  function unacked() {
    var out = [];
    var list = queue.querySelectorAll('.ticket[data-status="placed"]');
    for (var i = 0; i < list.length; i++) {
      var id = list[i].getAttribute('data-order');
      if (!acked[id]) { out.push(id); }
    }
    return out;
  }
  function updateRing() {
    var n = unacked().length;
    ack.hidden = n === 0;
    ackCount.textContent = n > 1 ? '(' + n + ')' : '';
    document.title = (n > 0 ? '● ' : '') + document.title.replace(/^● /, '');
    if (n > 0 && !ringing) { beep(); ringing = setInterval(beep, 2500); }
    if (n === 0 && ringing) { clearInterval(ringing); ringing = null; }
  }
  ack.addEventListener('click', function () {
    unacked().forEach(function (id) { acked[id] = 1; });
    try { window.sessionStorage.setItem('ql-acked', JSON.stringify(acked)); } catch (e) { /* ignore */ }
    updateRing();
  });

  // Screen readers hear each new order once (the queue is redrawn whole,
  // so the queue itself is no live region).
  var news = $('kds-news');
  var known = null;
  function announce() {
    var fresh = [];
    var list = queue.querySelectorAll('.ticket[data-status="placed"]');
    var first = known === null;
    if (first) { known = {}; }
    for (var i = 0; i < list.length; i++) {
      var id = list[i].getAttribute('data-order');
      if (known[id]) { continue; }
      known[id] = 1;
      var num = list[i].querySelector('.num');
      if (!first) { fresh.push(num ? num.textContent : id); }
    }
    if (fresh.length) { news.textContent = t(fresh.length > 1 ? 'shop.new_orders' : 'shop.new_order', { calls: fresh.join(', ') }); }
  }

  // Ages tick; amber past the usual preparation time, red past twice.
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function tick() {
    var k = $('kds');
    if (!k) { return; }
    var prep = (Number(k.getAttribute('data-prep')) || 600) * 1000;
    var t = now();
    var list = queue.querySelectorAll('[data-since]');
    for (var i = 0; i < list.length; i++) {
      var li = list[i];
      var age = Math.max(0, t - Number(li.getAttribute('data-since')));
      var s = Math.floor(age / 1000);
      var el = li.querySelector('.age');
      if (el) { el.textContent = Math.floor(s / 60) + ':' + pad(s % 60); }
      li.classList.toggle('late', age > prep && age <= 2 * prep);
      li.classList.toggle('very-late', age > 2 * prep);
    }
    var undos = queue.querySelectorAll('[data-undo-until]');
    for (var j = 0; j < undos.length; j++) {
      if (Number(undos[j].getAttribute('data-undo-until')) < t) {
        var f = undos[j].querySelector('form[data-act="undo"]');
        if (f) { f.parentNode.removeChild(f); }
        undos[j].removeAttribute('data-undo-until');
      }
    }
  }
  setInterval(tick, 1000);

  // Redraw from the server, keeping each column's scroll and any open form.
  var stale = false;
  function busy() {
    var a = document.activeElement;
    return (a && a !== document.body && queue.contains(a) && a.tagName === 'INPUT') ||
      queue.querySelector('details[open]') !== null;
  }
  function refresh() {
    if (busy()) { stale = true; return; }
    stale = false;
    fetch('/shop/queue', { credentials: 'same-origin', redirect: 'manual' })
      .then(function (r) {
        if (r.type === 'opaqueredirect' || r.status === 401 || r.status === 403) {
          location.reload();
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        var x = window.scrollX, y = window.scrollY;
        queue.innerHTML = html;
        window.scrollTo(x, y);
        readClock();
        tick();
        updateRing();
        announce();
      })
      .catch(function () { banner.hidden = false; });
  }
  queue.addEventListener('focusout', function () { setTimeout(function () { if (stale) { refresh(); } }, 0); });
  queue.addEventListener('toggle', function () { if (stale) { refresh(); } }, true);

  // Actions: the same form, sent without leaving the page; the ticket
  // moves at once and the redrawn queue corrects it.
  var NEXT_COL = { accepted: 'cooking', preparing: 'cooking', ready: 'ready' };
  var LABEL = { accepted: ['preparing', t('shop.next_start')], preparing: ['ready', t('shop.next_ready')], ready: ['completed', t('shop.next_picked_up')] };
  function optimistic(form, fd) {
    var li = form.closest('[data-order]');
    if (!li) { return; }
    var act = form.getAttribute('data-act');
    li.classList.add('pending');
    if (act === 'bump') {
      var to = fd.get('status');
      var col = NEXT_COL[to];
      var target = col && queue.querySelector('[data-col="' + col + '"] .tickets');
      if (!target) { li.parentNode.removeChild(li); return; }
      li.setAttribute('data-status', to);
      var next = LABEL[to];
      var bump = li.querySelector('button.bump');
      if (bump && next) {
        bump.textContent = next[1];
        bump.parentNode.querySelector('input[name="status"]').value = next[0];
      }
      if (li.parentNode !== target) { target.appendChild(li); }
    } else if (act === 'cancel') {
      li.parentNode.removeChild(li);
    } else if (act === 'paid') {
      form.parentNode.removeChild(form);
      var u = li.querySelector('.unpaid');
      if (u) { u.className = 'paid'; u.textContent = t('shop.paid_' + fd.get('method')); }
    }
  }
  function showError(text) {
    errBox.textContent = text;
    errBox.hidden = !text;
  }
  queue.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!window.fetch || !window.FormData || !window.URLSearchParams) { return; }
    ev.preventDefault();
    var fd;
    try { fd = new FormData(form, ev.submitter); } catch (e) { fd = new FormData(form); }
    var b = ev.submitter;
    if (b && b.name && !fd.has(b.name)) { fd.append(b.name, b.value); }
    var details = form.closest('details');
    if (details) { details.open = false; }
    optimistic(form, fd);
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin', redirect: 'manual',
      body: new URLSearchParams(fd)
    }).then(function (r) {
      if (r.type === 'opaqueredirect' || r.ok) { showError(''); return null; }
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var m = doc.querySelector('.notice');
        showError(m ? m.textContent : t('shop.failed', { status: r.status }));
      });
    }).catch(function () {
      showError(t('shop.offline'));
    }).then(refresh);
  });

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') { refresh(); }
  });
  var poller = null;
  var down = false;
  function poll() { if (!poller) { poller = setInterval(refresh, 10000); } }
  // The printer's state has no event of its own: look again while it waits.
  setInterval(function () { if ($('printer-offline') || $('printer-waiting')) { refresh(); } }, 15000);

  readClock();
  tick();
  startAudio();
  updateRing();
  announce();

  if (!window.EventSource) { poll(); return; }
  var es = new EventSource('/events/shop');
  // A page kept in the back-forward cache must not keep its stream open:
  // each holds one of the browser's six connections to this server, and
  // after six left pages every new page stalls. Coming back reloads it.
  window.addEventListener('pagehide', function () { es.close(); });
  window.addEventListener('pageshow', function (e) { if (e.persisted) { window.location.reload(); } });
  es.onopen = function () {
    banner.hidden = true;
    if (down) { down = false; refresh(); }
    if (poller) { clearInterval(poller); poller = null; }
  };
  es.onerror = function () {
    banner.hidden = false;
    down = true;
    // A refused stream is not retried by the browser: poll instead.
    if (es.readyState === EventSource.CLOSED) { poll(); }
  };
  es.addEventListener('placed', refresh);
  es.addEventListener('status', refresh);
  es.addEventListener('stock', refresh);
  es.addEventListener('resync', refresh);
}());
