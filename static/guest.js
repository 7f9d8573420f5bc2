// queueless guest pages: live updates on top of pages that work without
// JavaScript. Menu: sold-out items grey out. Order page: stage, queue,
// reasons and a loud "ready" alert (static/alerts.js unlocks it). My
// orders / table: stage changes, table closed.
(function () {
  'use strict';
  var body = document.body;
  var page = body.getAttribute('data-page');
  var banner = document.getElementById('live-state');
  var source = null;
  // Words and prices in the page's language (static/i18n.js).
  var t = window.queuelessT || function (k) { return k; };

  function setLive(ok) { if (banner) { banner.hidden = ok; } }
  function getJSON(url, done) {
    var x = new XMLHttpRequest();
    x.open('GET', url);
    x.onload = function () { if (x.status === 200) { try { done(JSON.parse(x.responseText)); } catch (e) { /* ignore */ } } };
    x.send();
  }
  // A page kept in the back-forward cache must not keep its stream open:
  // each holds one of the browser's six connections to this server, and
  // after six left pages every new page stalls. Coming back reloads it.
  window.addEventListener('pagehide', function () { if (source) { source.close(); } });
  window.addEventListener('pageshow', function (e) { if (e.persisted && source) { window.location.reload(); } });
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
    if (btn) { btn.disabled = !available || !!(btn.form && btn.form.getAttribute('data-off')); }
    var choose = li.querySelector('a.choose');
    if (choose) {
      choose.classList.toggle('disabled', !available);
      if (available) { choose.removeAttribute('aria-disabled'); } else { choose.setAttribute('aria-disabled', 'true'); }
    }
    var l = li.querySelector('.left');
    if (l) { l.textContent = !available ? t('guest.sold_out') : (left !== null && left !== undefined && left <= 10 ? t('guest.only_left', { n: left }) : ''); }
  }
  if (page === 'menu') {
    var shop = body.getAttribute('data-shop');
    var refresh = function () {
      getJSON('/api/shops/' + shop + '/menu', function (m) {
        m.items.forEach(function (i) {
          applyItem(i.id, i.available, i.stock_left);
          (i.option_groups || []).forEach(function (g) {
            applyQuick(g.options.map(function (o) { return { option_id: o.id, available: o.available }; }));
          });
        });
      });
    };
    // An option that runs out or is switched off: a quick "Add" that would
    // choose it (its preselected options) is disabled until it is back.
    var applyQuick = function (list) {
      list.forEach(function (o) {
        var inputs = document.querySelectorAll('form[action="/cart/add"] input[name="o' + o.option_id + '"]');
        Array.prototype.forEach.call(inputs, function (input) {
          var f = input.form;
          var off = (f.getAttribute('data-off') || '').split(' ').filter(function (x) { return x && x !== String(o.option_id); });
          if (!o.available) { off.push(String(o.option_id)); }
          f.setAttribute('data-off', off.join(' '));
          var btn = f.querySelector('button.add');
          var li = f.closest('li.item');
          if (btn) { btn.disabled = off.length > 0 || (li && li.classList.contains('soldout')); }
        });
      });
    };
    listen('/events/menu/' + shop, {
      availability: function (list) { list.forEach(function (i) { applyItem(i.item_id, i.available, i.left); }); },
      options: applyQuick,
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
    badge = setBadge(badge, t('guest.in_cart', { n: now }), function () {
      var s = document.createElement('span');
      s.className = 'incart';
      f.parentNode.insertBefore(s, f);
      return s;
    });
    badge.setAttribute('aria-label', t('guest.in_cart_label', { n: now }));
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
  var money = window.queuelessMoney || String;
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
    if (l) { l.textContent = !o.available ? t('guest.sold_out') : (o.stock_left !== null && o.stock_left <= 10 ? t('guest.only_left', { n: o.stock_left }) : ''); }
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
      options: function (list) {
        list.forEach(function (o) { applyOption({ id: o.option_id, available: o.available, stock_left: o.left }); });
        chooserTotal();
      },
      shop: refreshOptions
    }, refreshOptions);
  }

  // Order page.

  // Alerts (static/alerts.js): the "turn on alerts" panel while an order is open.
  var alerts = window.queuelessAlerts;
  if (alerts) {
    alerts.panel(document.getElementById('alerts-on'), document.getElementById('alerts-state'), {
      button: t('guest.alerts.button'), again: t('guest.alerts.again'),
      off: t('guest.alerts.off'), asked: t('guest.alerts.asked'),
      on: t('guest.alerts.on'), refused: t('guest.alerts.refused')
    });
  }
  var venue = (document.querySelector('.top .venue') || {}).textContent || '';
  function setTitle(text) { document.title = text + (venue ? ' · ' + venue : ''); }

  // Ready: sound, vibration, flash and title; says so when the browser refused.
  var alerted = false;
  function readyAlert(call) {
    if (alerted) { return; }
    alerted = true;
    setTitle(t('guest.ready_title', { call: call }));
    var box = document.getElementById('order');
    if (box) { box.classList.add('alert'); }
    var got = alerts ? alerts.ring() : { sound: false, vibrate: false };
    var state = document.getElementById('alerts-state');
    if (state && got.sound) {
      state.textContent = t('guest.ready_sound');
      state.className = 'state';
    } else if (state) {
      state.textContent = t(alerts && alerts.on() ? 'guest.ready_blocked' : 'guest.ready_blocked_hint');
      state.className = 'state bad';
    }
  }
  function applyOrder(o) {
    var box = document.getElementById('order');
    if (!box) { return; }
    var call = body.getAttribute('data-call');
    if (o.status) {
      box.className = box.className.replace(/status-\w+/, 'status-' + o.status);
      body.setAttribute('data-status', o.status);
      var st = document.getElementById('stage');
      var label = t('stage.' + o.status);
      if (st) { st.textContent = label; }
      var c = document.getElementById('cancel');
      if (c && o.status !== 'placed') { c.hidden = true; }
      var finished = o.status === 'completed' || o.status === 'cancelled';
      if (o.status === 'ready') { readyAlert(call); } else { setTitle(call + ' · ' + label); }
      if (finished) {
        var a = document.getElementById('alerts'); if (a) { a.hidden = true; }
        if (alerts) { alerts.finish(); }
      }
      if (o.status === 'cancelled') {
        var pay = document.getElementById('pay-hint'); if (pay) { pay.textContent = t('guest.nothing_to_pay'); }
      }
      // A step the shop took back: say so, so the guest trusts the page.
      var fix = document.getElementById('correction');
      if (fix) {
        var m = o.message || '';
        // The stream says "Correction: …" (stored in English); the page
        // says it in its own language.
        var at = m.indexOf('Correction:');
        var said = t('correction.' + o.status);
        fix.textContent = at < 0 ? '' : (said === 'correction.' + o.status ? t('correction.other') : said);
        fix.hidden = at < 0;
      }
    }
    if (o.reason) {
      var r = document.getElementById('reason');
      if (r) { r.textContent = o.reason; r.hidden = false; }
    }
    if ('queue_position' in o) {
      var q = document.getElementById('queue');
      if (q) {
        var r = o.wait_range_minutes;
        var wait = !r ? o.wait : (r[0] !== r[1] ? t('guest.wait_range', { lo: r[0], hi: r[1] })
          : t('guest.wait_about', { n: r[0] }));
        q.textContent = o.queue_position ? t('guest.queue', { n: o.queue_position }) +
          (wait ? ' · ' + wait : '') : '';
      }
    }
  }
  function waitText(o) {
    if (!o.estimated_wait_seconds) { return null; }
    var m = function (s) { return Math.max(1, Math.ceil(s / 60)); };
    var lo = m(o.estimated_wait_min_seconds), hi = m(o.estimated_wait_max_seconds);
    return lo !== hi ? t('guest.wait_range', { lo: lo, hi: hi }) : t('guest.wait_about', { n: m(o.estimated_wait_seconds) });
  }
  if (page === 'order') {
    var token = body.getAttribute('data-token');
    if (body.getAttribute('data-status') === 'ready') { alerted = true; }
    var reload = function () {
      getJSON('/api/orders/' + token, function (o) {
        applyOrder({ status: o.status, queue_position: o.queue_position,
          wait: waitText(o), reason: o.cancel_reason });
      });
    };
    listen('/events/order/' + token, { status: applyOrder, queue: applyOrder }, reload);
  }

  // My orders and the table page: this device's stream.
  if (page === 'my-orders' || page === 'table') {
    listen('/events/me', {
      status: function (n) {
        var li = document.querySelector('[data-order="' + n.order_id + '"]');
        var call = '';
        if (li) {
          li.className = li.className.replace(/status-\w+/, 'status-' + n.status);
          var s = li.querySelector('.stage'); if (s) { s.textContent = t('stage.' + n.status); }
          var b = li.querySelector('.code'); if (b) { call = b.textContent; }
        }
        if (n.status === 'ready') { alerted = false; readyAlert(call); }
      },
      placed: function () { if (page === 'my-orders') { window.location.reload(); } },
      table_closed: function () {
        var ts = document.getElementById('table-state');
        if (ts) { ts.textContent = t('guest.table_closed'); ts.className = 'notice error'; }
      }
    }, function () { if (page === 'my-orders') { window.location.reload(); } });
  }

  // Copy the status link with one tap.
  var copy = document.querySelector('input.copy');
  if (copy) { copy.addEventListener('focus', function () { copy.select(); }); }
}());
