// queueless shop dashboard: the queue refreshes itself on every order
// event, and a new order rings until someone acknowledges it.
(function () {
  'use strict';
  if (document.body.getAttribute('data-page') !== 'dashboard') { return; }
  var queue = document.getElementById('queue');
  var banner = document.getElementById('live-state');
  var ack = document.getElementById('ack');
  var soundBtn = document.getElementById('sound');
  var ctx = null;
  var ringing = null;

  function beep() {
    if (!ctx) { return; }
    var o = ctx.createOscillator(); var g = ctx.createGain();
    o.frequency.value = 880; g.gain.value = 0.3;
    o.connect(g); g.connect(ctx.destination);
    o.start(); o.stop(ctx.currentTime + 0.2);
  }
  function ring() {
    ack.hidden = false;
    if (ringing) { return; }
    beep();
    ringing = setInterval(beep, 3000);
  }
  ack.addEventListener('click', function () {
    if (ringing) { clearInterval(ringing); ringing = null; }
    ack.hidden = true;
  });
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (Ctx) {
    soundBtn.hidden = false;
    soundBtn.addEventListener('click', function () {
      ctx = ctx || new Ctx();
      if (ctx.resume) { ctx.resume(); }
      soundBtn.hidden = true;
    });
  }
  function refresh() {
    var x = new XMLHttpRequest();
    x.open('GET', '/shop/queue');
    x.onload = function () { if (x.status === 200) { queue.innerHTML = x.responseText; } };
    x.send();
  }
  if (!window.EventSource) { setInterval(refresh, 5000); return; }
  var es = new EventSource('/events/shop');
  es.onopen = function () { banner.hidden = true; };
  es.onerror = function () { banner.hidden = false; };
  es.addEventListener('placed', function () { refresh(); ring(); });
  es.addEventListener('status', refresh);
  es.addEventListener('stock', refresh);
  es.addEventListener('resync', refresh);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') { refresh(); }
  });
}());
