// Pickup board: keeps the "preparing" and "ready" columns live.
(function () {
  'use strict';
  var shop = document.body.getAttribute('data-shop');
  var q = shop ? '?shop=' + encodeURIComponent(shop) : '';
  var banner = document.getElementById('live-state');
  function fill(id, list) {
    var ul = document.getElementById(id);
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    list.forEach(function (e) {
      var li = document.createElement('li');
      var b = document.createElement('b'); b.textContent = e.number;
      var s = document.createElement('small'); s.textContent = e.shop;
      li.appendChild(b); li.appendChild(document.createTextNode(' ')); li.appendChild(s);
      ul.appendChild(li);
    });
  }
  function apply(d) { fill('preparing', d.preparing); fill('ready', d.ready); }
  function reload() {
    var x = new XMLHttpRequest();
    x.open('GET', '/api/board' + q);
    x.onload = function () { if (x.status === 200) { apply(JSON.parse(x.responseText)); } };
    x.send();
  }
  if (!window.EventSource) { setInterval(reload, 5000); return; }
  var es = new EventSource('/events/board' + q);
  es.onopen = function () { banner.hidden = true; };
  es.onerror = function () { banner.hidden = false; };
  es.addEventListener('board', function (e) { apply(JSON.parse(e.data)); });
  es.addEventListener('resync', reload);
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') { reload(); } });
}());
