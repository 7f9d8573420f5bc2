// queueless interface text for the page scripts. The page carries its
// strings in <script type="application/json" id="i18n"> (the keys under
// `js.` of locales/*.yml, in the page's language, without the `js.`);
// scripts read them with queuelessT('guest.sold_out') or
// queuelessT('guest.only_left', { n: 3 }), and write prices with
// queuelessMoney(minor), the way the page's language writes them.
(function () {
  'use strict';
  var strings = {};
  try { strings = JSON.parse(document.getElementById('i18n').textContent) || {}; } catch (e) { strings = {}; }
  window.queuelessT = function (key, args) {
    var s = typeof strings[key] === 'string' ? strings[key] : key;
    Object.keys(args || {}).forEach(function (k) { s = s.split('%{' + k + '}').join(String(args[k])); });
    return s;
  };
  window.queuelessMoney = function (minor) {
    var m = strings._money || { symbol: '', digits: 2, decimal: '.', group: ',', after: false, space: false };
    var scale = Math.pow(10, m.digits);
    var whole = String(Math.floor(minor / scale)).replace(/\B(?=(\d{3})+(?!\d))/g, m.group);
    var frac = String(minor % scale);
    while (frac.length < m.digits) { frac = '0' + frac; }
    var n = whole + (m.digits ? m.decimal + frac : '');
    var gap = m.space ? (m.after ? '\u00a0' : ' ') : '';
    return m.after ? n + gap + m.symbol : m.symbol + gap + n;
  };
}());
