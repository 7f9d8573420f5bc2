// queueless guest pages: live updates on top of pages that work without
// JavaScript. Menu: sold-out items grey out. Order page: stage, queue and a
// loud "ready" alert. My orders / table: stage changes, table closed.
(function () {
  'use strict';
  var body = document.body;
  var page = body.getAttribute('data-page');
  var banner = document.getElementById('live-state');
  var source = null;

  function setLive(ok) { if (banner) { banner.hidden = ok; } }
  function getJSON(url, done) {
    var x = new XMLHttpRequest();
    x.open('GET', url);
    x.onload = function () { if (x.status === 200) { try { done(JSON.parse(x.responseText)); } catch (e) { /* ignore */ } } };
    x.send();
  }
  function listen(url, handlers, resync) {
    if (!window.EventSource) { return; }
    source = new EventSource(url);
    source.onopen = function () { setLive(true); };
    source.onerror = function () { setLive(false); };
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (e) {
        var data = null;
        try { data = JSON.parse(e.data); } catch (err) { data = e.data; }
        handlers[name](data);
      });
    });
    source.addEventListener('resync', resync);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') { resync(); }
    });
  }

  // Menu: availability.
  function applyItem(id, available, left) {
    var li = document.querySelector('[data-item="' + id + '"]');
    if (!li) { return; }
    li.classList.toggle('soldout', !available);
    var btn = li.querySelector('button.add');
    if (btn) { btn.disabled = !available; }
    var choose = li.querySelector('a.choose');
    if (choose) { choose.classList.toggle('disabled', !available); }
    var l = li.querySelector('.left');
    if (l) { l.textContent = !available ? 'Sold out' : (left !== null && left !== undefined && left <= 10 ? 'Only ' + left + ' left' : ''); }
  }
  if (page === 'menu') {
    var shop = body.getAttribute('data-shop');
    var refresh = function () {
      getJSON('/api/shops/' + shop + '/menu', function (m) {
        m.items.forEach(function (i) { applyItem(i.id, i.available, i.stock_left); });
      });
    };
    listen('/events/menu/' + shop, {
      availability: function (list) { list.forEach(function (i) { applyItem(i.item_id, i.available, i.left); }); },
      shop: function () { window.location.reload(); }
    }, refresh);
  }

  // Adding from the menu keeps the guest where they are: the form goes in
  // the background (the cart cookie comes back on the redirect, which is
  // not followed) and the counts change here. Without fetch, the form's own
  // redirect returns to the item's anchor.
  function setBadge(el, n, make) {
    if (!el) { el = make(); }
    el.textContent = n;
    return el;
  }
  function added(f) {
    var n = +(f.querySelector('[name=quantity]') || { value: 1 }).value || 1;
    var link = document.querySelector('header a.cart');
    var total = document.getElementById('cart-count');
    setBadge(total, (total ? +total.textContent : 0) + n, function () {
      var b = document.createElement('b');
      b.id = 'cart-count';
      link.appendChild(document.createTextNode(' '));
      link.appendChild(b);
      return b;
    });
    var li = f.closest('li.item');
    if (!li) { return; }
    var badge = li.querySelector('.incart');
    var now = (badge ? parseInt(badge.textContent, 10) : 0) + n;
    badge = setBadge(badge, now + ' in cart', function () {
      var s = document.createElement('span');
      s.className = 'incart';
      f.parentNode.insertBefore(s, f);
      return s;
    });
    badge.setAttribute('aria-label', now + ' in your cart');
  }
  if (page === 'menu' && window.fetch && window.URLSearchParams && window.FormData) {
    document.addEventListener('submit', function (e) {
      var f = e.target;
      if (f.getAttribute('action') !== '/cart/add') { return; }
      e.preventDefault();
      var btn = f.querySelector('button');
      if (btn) { btn.disabled = true; }
      var again = function () { f.submit(); };
      fetch('/cart/add', {
        method: 'POST',
        body: new URLSearchParams(new FormData(f)),
        credentials: 'same-origin',
        redirect: 'manual'
      }).then(function (r) {
        if (btn) { btn.disabled = false; }
        if (r.type === 'opaqueredirect' || (r.status >= 300 && r.status < 400)) {
          added(f);
        } else {
          again();
        }
      }, again);
    });
  }

  // Option chooser: the live total, a group's maximum, and options that
  // run out or are switched off while the guest chooses.
  var chooser = document.getElementById('chooser');
  function money(minor) {
    var digits = +chooser.getAttribute('data-digits');
    var scale = Math.pow(10, digits);
    var whole = Math.floor(minor / scale);
    var frac = String(minor % scale);
    while (frac.length < digits) { frac = '0' + frac; }
    return chooser.getAttribute('data-symbol') + whole + (digits ? '.' + frac : '');
  }
  function chooserTotal() {
    var sum = +chooser.getAttribute('data-base');
    Array.prototype.forEach.call(chooser.querySelectorAll('input[data-delta]:checked'), function (i) {
      sum += +i.getAttribute('data-delta');
    });
    document.getElementById('total').textContent = money(Math.max(0, sum));
    Array.prototype.forEach.call(chooser.querySelectorAll('fieldset[data-max]'), function (f) {
      var max = +f.getAttribute('data-max');
      var boxes = f.querySelectorAll('input[type=checkbox]');
      if (!boxes.length) { return; }
      var ticked = f.querySelectorAll('input[type=checkbox]:checked').length;
      Array.prototype.forEach.call(boxes, function (b) {
        var off = b.parentNode.classList.contains('soldout');
        b.disabled = off || (!b.checked && ticked >= max);
      });
    });
  }
  function applyOption(o) {
    var label = document.querySelector('[data-option="' + o.id + '"]');
    if (!label) { return; }
    label.classList.toggle('soldout', !o.available);
    var input = label.querySelector('input');
    if (input) {
      input.disabled = !o.available;
      if (!o.available) { input.checked = false; }
    }
    var l = label.querySelector('.left');
    if (l) { l.textContent = !o.available ? 'Sold out' : (o.stock_left !== null && o.stock_left <= 10 ? 'Only ' + o.stock_left + ' left' : ''); }
  }
  if (chooser) {
    chooser.setAttribute('data-seen', '1');
    chooser.addEventListener('change', chooserTotal);
    chooserTotal();
    var item = chooser.getAttribute('data-item');
    var refreshOptions = function () {
      getJSON('/api/shops/' + body.getAttribute('data-shop') + '/menu', function (m) {
        m.items.forEach(function (i) {
          if (String(i.id) !== item) { return; }
          i.option_groups.forEach(function (g) { g.options.forEach(applyOption); });
        });
        chooserTotal();
      });
    };
    listen('/events/menu/' + body.getAttribute('data-shop'), {
      availability: refreshOptions,
      shop: refreshOptions
    }, refreshOptions);
  }

  // Order page.
  var alerted = false;
  function readyAlert() {
    if (alerted) { return; }
    alerted = true;
    document.title = 'READY! ' + document.title;
    var box = document.getElementById('order');
    if (box) { box.classList.add('alert'); }
    if (navigator.vibrate) { navigator.vibrate([400, 200, 400, 200, 800]); }
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx();
      [0, 0.5, 1.0].forEach(function (t) {
        var o = ctx.createOscillator(); var g = ctx.createGain();
        o.frequency.value = 880; o.connect(g); g.connect(ctx.destination);
        g.gain.value = 0.3; o.start(ctx.currentTime + t); o.stop(ctx.currentTime + t + 0.3);
      });
    } catch (e) { /* no audio before a tap on some phones */ }
  }
  function applyOrder(o) {
    var box = document.getElementById('order');
    if (!box) { return; }
    if (o.status) {
      box.className = box.className.replace(/status-\w+/, 'status-' + o.status);
      body.setAttribute('data-status', o.status);
      var st = document.getElementById('stage');
      if (st && o.label) { st.textContent = o.label; }
      var c = document.getElementById('cancel');
      if (c && o.status !== 'placed') { c.hidden = true; }
      if (o.status === 'ready') { readyAlert(); }
    }
    if ('queue_position' in o) {
      var q = document.getElementById('queue');
      if (q) {
        q.textContent = o.queue_position ? 'Number ' + o.queue_position + ' in line' +
          (o.wait_minutes ? ' · about ' + o.wait_minutes + ' min' : '') : '';
      }
    }
  }
  if (page === 'order') {
    var token = body.getAttribute('data-token');
    if (body.getAttribute('data-status') === 'ready') { alerted = true; }
    var labels = { placed: 'Sent to the shop', accepted: 'Accepted', preparing: 'Being prepared',
      ready: 'Ready for pickup!', completed: 'Picked up', cancelled: 'Cancelled' };
    var reload = function () {
      getJSON('/api/orders/' + token, function (o) {
        applyOrder({ status: o.status, label: labels[o.status], queue_position: o.queue_position,
          wait_minutes: o.estimated_wait_seconds ? Math.ceil(o.estimated_wait_seconds / 60) : null });
      });
    };
    listen('/events/order/' + token, { status: applyOrder, queue: applyOrder }, reload);
  }

  // My orders and the table page: this device's stream.
  if (page === 'my-orders' || page === 'table') {
    listen('/events/me', {
      status: function (n) {
        var li = document.querySelector('[data-order="' + n.order_id + '"]');
        if (li) {
          li.className = li.className.replace(/status-\w+/, 'status-' + n.status);
          var s = li.querySelector('.stage'); if (s) { s.textContent = n.label; }
        }
        if (n.status === 'ready') { readyAlert(); }
      },
      placed: function () { if (page === 'my-orders') { window.location.reload(); } },
      table_closed: function () {
        var t = document.getElementById('table-state');
        if (t) { t.textContent = 'This table is closed. Thank you!'; t.className = 'notice error'; }
      }
    }, function () { if (page === 'my-orders') { window.location.reload(); } });
  }

  // Copy the status link with one tap.
  var copy = document.querySelector('input.copy');
  if (copy) { copy.addEventListener('focus', function () { copy.select(); }); }
}());
