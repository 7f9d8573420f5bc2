// Pickup board: keeps the "preparing" and "ready" columns live, sized to
// fill the screen; a newly ready number is highlighted and chimes (once
// sound is turned on with the board's own button). Ready numbers that the
// venue's time has cleared disappear at the next refresh (every 20 s).
(function () {
  'use strict';
  var body = document.body;
  var shop = body.getAttribute('data-shop');
  var q = shop ? '?shop=' + encodeURIComponent(shop) : '';
  var banner = document.getElementById('live-state');
  var news = document.getElementById('board-news');
  var alerts = window.queuelessAlerts;
  var t = window.queuelessT;
  var seen = null;
  if (alerts) {
    alerts.panel(document.getElementById('sound'), document.getElementById('sound-state'), {
      button: t('board.sound_button'), again: t('board.sound_again'),
      off: '', asked: t('board.sound_asked'), on: t('board.sound_on'),
      refused: t('board.sound_refused')
    });
  }
  function readyCalls() {
    var out = {};
    Array.prototype.forEach.call(document.querySelectorAll('#ready b'), function (b) { out[b.textContent] = true; });
    return out;
  }
  function fill(id, list, grid) {
    var ul = document.getElementById(id);
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    ul.className = 'grid c' + grid.cols + ' r' + grid.rows;
    list.forEach(function (e) {
      var li = document.createElement('li');
      if (e.fresh) { li.className = 'fresh'; }
      var b = document.createElement('b'); b.textContent = e.call;
      li.appendChild(b);
      ul.appendChild(li);
    });
  }
  function apply(d) {
    var before = seen || readyCalls();
    document.querySelector('.board-cols').className = 'board-cols w' + d.chars;
    fill('preparing', d.preparing, d.preparing_grid);
    fill('ready', d.ready, d.ready_grid);
    var fresh = d.ready.filter(function (e) { return !before[e.call]; })
      .map(function (e) { return e.call; });
    seen = readyCalls();
    // Screen readers hear only what became ready, not the whole list again.
    if (fresh.length) { news.textContent = t('board.ready_news', { calls: fresh.join(', ') }); }
    if (fresh.length && alerts) { alerts.ring([988, 784, 988]); }
  }
  function reload() {
    var x = new XMLHttpRequest();
    x.open('GET', '/api/board' + q);
    x.onload = function () { if (x.status === 200) { apply(JSON.parse(x.responseText)); } };
    x.send();
  }
  seen = readyCalls();
  setInterval(reload, 20000);
  if (!window.EventSource) { return; }
  var es = new EventSource('/events/board' + q);
  // A page kept in the back-forward cache must not keep its stream open:
  // each holds one of the browser's six connections to this server, and
  // after six left pages every new page stalls. Coming back reloads it.
  window.addEventListener('pagehide', function () { es.close(); });
  window.addEventListener('pageshow', function (e) { if (e.persisted) { window.location.reload(); } });
  es.onopen = function () { banner.hidden = true; };
  es.onerror = function () { banner.hidden = false; };
  es.addEventListener('board', function (e) { apply(JSON.parse(e.data)); });
  es.addEventListener('resync', reload);
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') { reload(); } });
}());
