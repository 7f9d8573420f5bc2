// queueless shop dashboard: the queue refreshes itself on every order
// event, and a new order rings until someone acknowledges it. The page
// works without this script (plain forms); this only adds live updates.
(function () {
  'use strict';
  if (document.body.getAttribute('data-page') !== 'dashboard') { return; }
  var queue = document.getElementById('queue');
  var banner = document.getElementById('live-state');
  var ack = document.getElementById('ack');
  var soundBtn = document.getElementById('sound');
  var Ctx = window.AudioContext || window.webkitAudioContext;
  var ctx = null;
  var ringing = null;
  var stale = false;
  var poller = null;
  var down = false;

  function beep() {
    if (!ctx) { return; }
    var o = ctx.createOscillator();
    var g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.3;
    o.connect(g);
    g.connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.2);
  }
  function ring() {
    ack.hidden = false;
    document.title = '● ' + document.title.replace(/^● /, '');
    if (ringing) { return; }
    beep();
    ringing = setInterval(beep, 3000);
  }
  ack.addEventListener('click', function () {
    if (ringing) { clearInterval(ringing); ringing = null; }
    ack.hidden = true;
    document.title = document.title.replace(/^● /, '');
  });
  // Browsers allow sound only after a gesture on the page.
  if (Ctx) {
    soundBtn.hidden = false;
    soundBtn.addEventListener('click', function () {
      ctx = ctx || new Ctx();
      if (ctx.resume) { ctx.resume(); }
      soundBtn.hidden = true;
    });
  }

  // Someone typing a rejection reason must not lose it to a refresh:
  // wait until they leave the form.
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
        // Logged out meanwhile: the reload lands on the login page.
        if (r.type === 'opaqueredirect' || r.status === 401 || r.status === 403) {
          location.reload();
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null) { queue.innerHTML = html; } })
      .catch(function () { banner.hidden = false; });
  }
  queue.addEventListener('focusout', function () { setTimeout(function () { if (stale) { refresh(); } }, 0); });
  queue.addEventListener('toggle', function () { if (stale) { refresh(); } }, true);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') { refresh(); }
  });
  function poll() { if (!poller) { poller = setInterval(refresh, 10000); } }

  if (!window.EventSource) { poll(); return; }
  var es = new EventSource('/events/shop');
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
  es.addEventListener('placed', function () { refresh(); ring(); });
  es.addEventListener('status', refresh);
  es.addEventListener('stock', refresh);
  es.addEventListener('resync', refresh);
}());
