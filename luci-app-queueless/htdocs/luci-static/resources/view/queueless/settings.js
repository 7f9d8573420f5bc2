'use strict';
'require view';
'require form';

// Settings over /etc/config/queueless; saving reloads the service, and the
// init script restarts the daemon only when its command line changed.
return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('queueless', _('queueless'),
			_('The venue\'s ordering hub and captive portal on the guest Wi-Fi.'));

		s = m.section(form.NamedSection, 'main', 'queueless');
		s.tab('general', _('General'));
		s.tab('guests', _('Guests'));
		s.tab('tls', _('Certificate'));

		o = s.taboption('general', form.Flag, 'enabled', _('Enabled'));
		o.default = '1';
		o.rmempty = false;

		o = s.taboption('general', form.Value, 'venue_name', _('Portal name'));

		o = s.taboption('general', form.ListValue, 'language', _('Language'),
			_('The pages\' default; a guest\'s browser or the switch on the page overrides it.'));
		o.value('en', 'English');
		o.value('de', 'Deutsch');
		o.default = 'en';

		o = s.taboption('general', form.Value, 'guest_network', _('Guest network'),
			_('A network (guest) or a device (br-guest, phy1-ap0) guests join.'));
		o.placeholder = 'guest';

		o = s.taboption('general', form.Value, 'guest_zone', _('Guest firewall zone'),
			_('Default: the network\'s name.'));
		o.optional = true;

		o = s.taboption('general', form.Value, 'portal_host', _('Portal host'),
			_('Name or address of this router in portal links.'));

		o = s.taboption('general', form.Value, 'http_port', _('HTTP port'));
		o.datatype = 'port';
		o.placeholder = '8080';

		o = s.taboption('general', form.Value, 'https_port', _('HTTPS port'));
		o.datatype = 'port';
		o.placeholder = '8443';

		o = s.taboption('guests', form.Value, 'session_minutes', _('Session length (minutes)'));
		o.datatype = 'uinteger';
		o.placeholder = '120';

		o = s.taboption('guests', form.Value, 'idle_minutes', _('Idle time (minutes)'),
			_('A joined guest without traffic this long is let go (0: never).'));
		o.datatype = 'uinteger';
		o.placeholder = '30';

		o = s.taboption('guests', form.ListValue, 'internet', _('Internet'));
		o.value('after_accept', _('After joining'));
		o.value('none', _('Ordering only'));
		o.default = 'after_accept';

		o = s.taboption('guests', form.Flag, 'fail_open', _('Let guests pass when queueless stops'));
		o.default = '0';

		o = s.taboption('guests', form.DynamicList, 'walled_garden', _('Walled garden'),
			_('Addresses or networks guests reach before joining.'));
		o.datatype = 'or(ipaddr,cidr)';

		o = s.taboption('guests', form.DynamicList, 'trusted_mac', _('Trusted MACs'),
			_('Always pass.'));
		o.datatype = 'macaddr';

		o = s.taboption('guests', form.DynamicList, 'blocked_mac', _('Blocked MACs'),
			_('Never pass.'));
		o.datatype = 'macaddr';

		o = s.taboption('tls', form.Value, 'tls_cert', _('Certificate file (PEM)'),
			_('Empty: a self-signed certificate, or ACME below.'));
		o.optional = true;

		o = s.taboption('tls', form.Value, 'tls_key', _('Key file (PEM)'));
		o.optional = true;

		o = s.taboption('tls', form.ListValue, 'acme_challenge', _('ACME certificate'),
			_('A certificate from an ACME CA for the portal host (a public DNS name); leave the files above empty. HTTP-01 needs a wan redirect of port 80 to the HTTP port.'));
		o.value('', _('Off'));
		o.value('http-01', _('HTTP-01 (port 80 from the internet)'));
		o.value('dns-01', _('DNS-01 (RFC 2136 update with TSIG)'));
		o.optional = true;

		o = s.taboption('tls', form.Value, 'acme_directory', _('ACME directory'),
			_('The CA\'s directory URL.'));
		o.placeholder = 'https://acme-v02.api.letsencrypt.org/directory';
		o.depends('acme_challenge', 'http-01');
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_contact', _('ACME contact e-mail'));
		o.depends('acme_challenge', 'http-01');
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_ca_bundle', _('CA roots for the ACME server'));
		o.placeholder = '/etc/ssl/certs/ca-certificates.crt';
		o.depends('acme_challenge', 'http-01');
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_dns_server', _('DNS server (address:port)'),
			_('The zone\'s primary server.'));
		o.placeholder = '192.0.2.53:53';
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_dns_zone', _('DNS zone'));
		o.placeholder = 'example.com';
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_tsig_key_name', _('TSIG key name'));
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_tsig_secret_file', _('TSIG secret file'),
			_('The base64 secret, or the BIND key file.'));
		o.depends('acme_challenge', 'dns-01');

		o = s.taboption('tls', form.Value, 'acme_dns_wait_seconds', _('Wait after the update (seconds)'));
		o.datatype = 'uinteger';
		o.placeholder = '0';
		o.depends('acme_challenge', 'dns-01');

		return m.render();
	}
});
