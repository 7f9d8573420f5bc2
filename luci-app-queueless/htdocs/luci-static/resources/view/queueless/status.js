'use strict';
'require view';
'require rpc';
'require ui';
'require poll';

var callClients = rpc.declare({
	object: 'queueless',
	method: 'clients',
	expect: { clients: [] }
});

var callAuthorize = rpc.declare({
	object: 'queueless',
	method: 'authorize',
	params: [ 'mac' ]
});

var callDeauthorize = rpc.declare({
	object: 'queueless',
	method: 'deauthorize',
	params: [ 'mac' ]
});

function state(c) {
	if (c.blocked) return _('blocked');
	if (c.trusted) return _('trusted');
	if (c.authorized) return _('joined');
	return _('captive');
}

function act(call, mac) {
	return call(mac).then(function(r) {
		if (r && r.ok === false)
			ui.addNotification(null, E('p', r.message || _('Failed')), 'error');
	});
}

return view.extend({
	load: function() {
		return callClients();
	},

	rows: function(clients) {
		return clients.map(function(c) {
			var button = c.authorized
				? E('button', {
					'class': 'btn cbi-button-negative',
					'click': ui.createHandlerFn(this, act, callDeauthorize, c.mac)
				}, _('Deauthorize'))
				: E('button', {
					'class': 'btn cbi-button-positive',
					'disabled': c.blocked ? '' : null,
					'click': ui.createHandlerFn(this, act, callAuthorize, c.mac)
				}, _('Authorize'));
			return [
				c.mac,
				(c.ips || []).join(', ') || '-',
				c.hostname || '-',
				state(c),
				c.authorized ? '%d min'.format(Math.floor(c.seconds_remaining / 60)) : '-',
				'%1024.2mB'.format(c.bytes_in || 0),
				button
			];
		}, this);
	},

	render: function(clients) {
		var table = E('table', { 'class': 'table' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, _('MAC')),
				E('th', { 'class': 'th' }, _('Addresses')),
				E('th', { 'class': 'th' }, _('Host name')),
				E('th', { 'class': 'th' }, _('State')),
				E('th', { 'class': 'th' }, _('Time left')),
				E('th', { 'class': 'th' }, _('Sent')),
				E('th', { 'class': 'th' }, '')
			])
		]);
		cbi_update_table(table, this.rows(clients || []), E('em', _('No Wi-Fi clients yet.')));
		poll.add(L.bind(function() {
			return callClients().then(L.bind(function(list) {
				cbi_update_table(table, this.rows(list || []), E('em', _('No Wi-Fi clients yet.')));
			}, this));
		}, this), 5);
		return E('div', { 'class': 'cbi-map' }, [
			E('h2', _('Wi-Fi clients')),
			E('div', { 'class': 'cbi-section' }, table)
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
