// queueless alerts: sound and vibration that browsers allow only after a
// tap. A "turn on" button (or any tap once the guest chose alerts) unlocks
// them; the choice is remembered, and the page says plainly when the
// browser still refuses. Used by the order page, "my orders" and the board.
// State for people is the text next to the button; state for tests is on
// <body>: data-alerts (off, asked, on, refused), data-audio (the
// AudioContext's state), data-alert (fired), data-alert-sound (played,
// blocked).
(function () {
  'use strict';
  var KEY = 'queueless-alerts';
  var body = document.body;
  var ctx = null;
  var panels = [];

  function remember(on) { try { window.localStorage.setItem(KEY, on ? 'on' : 'off'); } catch (e) { /* private mode */ } }
  function wanted() { try { return window.localStorage.getItem(KEY) === 'on'; } catch (e) { return false; } }
  function activated() { return !navigator.userActivation || navigator.userActivation.hasBeenActive; }
  function audioState() { return ctx ? ctx.state : 'none'; }
  function mark(name, value) { body.setAttribute('data-' + name, value); }

  // Called inside a tap, or at load once the guest chose alerts: browsers
  // refuse (and log) a context started outside a tap unless their
  // autoplay policy allows it.
  function context() {
    if (!ctx) {
      var C = window.AudioContext || window.webkitAudioContext;
      if (!C) { return null; }
      try { ctx = new C(); } catch (e) { return null; }
    }
    return ctx;
  }

  function tones(freqs, volume) {
    if (!ctx || ctx.state !== 'running') { return false; }
    freqs.forEach(function (f, i) {
      var o = ctx.createOscillator();
      var g = ctx.createGain();
      var t = ctx.currentTime + i * 0.4;
      o.frequency.value = f;
      o.connect(g); g.connect(ctx.destination);
      g.gain.setValueAtTime(volume, t);
      g.gain.exponentialRampToValueAtTime(0.001, t + 0.35);
      o.start(t); o.stop(t + 0.36);
    });
    return true;
  }

  function vibrate(pattern) {
    if (!navigator.vibrate || !activated()) { return false; }
    try { return navigator.vibrate(pattern); } catch (e) { return false; }
  }

  function render() {
    var state = body.getAttribute('data-alerts') || 'off';
    mark('audio', audioState());
    panels.forEach(function (p) {
      var t = p.texts[state] || '';
      p.button.hidden = state === 'on' || p.done;
      p.button.textContent = state === 'asked' ? p.texts.again : p.texts.button;
      p.state.textContent = p.done ? '' : t;
      p.state.className = 'state' + (state === 'refused' ? ' bad' : '');
    });
  }

  // The tap: unlock sound and vibration, remember, show what the browser allowed.
  var busy = false;
  function unlock() {
    if (busy) { return; }
    busy = true;
    remember(true);
    var c = context();
    var buzzed = vibrate(30);
    var finish = function () {
      busy = false;
      var ok = !!c && c.state === 'running';
      if (ok) { tones([660], 0.08); }
      mark('alerts', ok ? 'on' : 'refused');
      mark('vibrate', buzzed ? 'yes' : 'no');
      render();
    };
    if (c && c.state !== 'running' && c.resume) { c.resume().then(finish, finish); } else { finish(); }
  }

  // The guest chose alerts earlier: the first tap anywhere unlocks them again.
  function onFirstTap() {
    document.removeEventListener('pointerdown', onFirstTap, true);
    document.removeEventListener('keydown', onFirstTap, true);
    if (body.getAttribute('data-alerts') === 'asked') { unlock(); }
  }

  // A panel: a button and a status line, with the words for each state.
  function panel(button, state, texts) {
    if (!button || !state) { return null; }
    var p = { button: button, state: state, texts: texts, done: false };
    panels.push(p);
    button.hidden = false;
    button.addEventListener('click', unlock);
    render();
    return p;
  }

  // Rings: sound, vibration; returns what the browser let through.
  function ring(freqs) {
    var sound = tones(freqs || [880, 660, 880, 660, 880], 0.4);
    var buzz = vibrate([400, 200, 400, 200, 800]);
    mark('alert', 'fired');
    mark('alert-sound', sound ? 'played' : 'blocked');
    return { sound: sound, vibrate: buzz };
  }

  mark('audio', 'none');
  if (wanted()) {
    mark('alerts', 'asked');
    document.addEventListener('pointerdown', onFirstTap, true);
    document.addEventListener('keydown', onFirstTap, true);
    // Chosen before: where the browser lets this page play without a tap
    // (a kiosk TV started with an autoplay policy), it is on at once.
    var c = context();
    if (c && c.state === 'running') { mark('alerts', 'on'); }
  } else {
    mark('alerts', 'off');
  }

  window.queuelessAlerts = {
    panel: panel,
    ring: ring,
    render: render,
    audioState: audioState,
    on: function () { return body.getAttribute('data-alerts') === 'on'; },
    finish: function () { panels.forEach(function (p) { p.done = true; }); render(); }
  };
}());
