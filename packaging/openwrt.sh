#!/bin/sh
# The OpenWrt init script against models of OpenWrt's behaviour
# (packaging/openwrt-model: uci with staging and option-vs-list, functions.sh
# config_load/config_get/config_list_foreach, network.sh over netifd's
# state, procd's restart-on-change and trigger matching), one scenario per
# finding of issue 18. Needs python3 only; no router, no root.
set -eu
cd "$(dirname "$0")/.."
MODEL="$(pwd)/packaging/openwrt-model"
INIT="$(pwd)/openwrt/files/queueless.init"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A fresh router: lan and a guest network on br-guest (up, 192.168.2.1),
# dnsmasq serving both, fw4 zones lan, wan and guest; the package's config.
router() {
    R="$work/$1"
    rm -rf "$R"
    mkdir -p "$R/uci" "$R/procd"
    : > "$R/log"
    : > "$R/reloads"
    : > "$R/procd/triggers"
    export UCI_DIR="$R/uci" PROCD_DIR="$R/procd" NETIFD_STATE="$R/netifd"
    export LOG="$R/log" RELOADS="$R/reloads" NFT_TABLE="$R/nft-table"
    export DEVICES="lo eth0 br-lan br-guest phy1-ap0 eth0.3 wlan1"
    "$MODEL/uci" import network <<'CFG'
config interface 'loopback'
	option device 'lo'
config interface 'lan'
	option device 'br-lan'
	option proto 'static'
config interface 'guest'
	option device 'br-guest'
	option proto 'static'
	option ipaddr '192.168.2.1'
config interface 'iot'
	option device 'eth0.3'
	option proto 'static'
CFG
    "$MODEL/uci" import dhcp <<'CFG'
config dnsmasq
	option domainneeded '1'
config dhcp 'lan'
	option interface 'lan'
config dhcp 'guest'
	option interface 'guest'
	list dhcp_option_force '42,192.0.2.123'
config dhcp 'iot'
	option interface 'iot'
CFG
    "$MODEL/uci" import firewall <<'CFG'
config defaults
	option input 'REJECT'
config zone
	option name 'lan'
	list network 'lan'
config zone
	option name 'guest'
	list network 'guest'
	option input 'REJECT'
config zone
	option name 'iot'
	list network 'iot'
CFG
    "$MODEL/uci" import queueless < openwrt/files/queueless.config
    printf 'lan up br-lan 192.168.1.1\nguest up br-guest 192.168.2.1\niot up eth0.3 192.168.3.1\n' > "$NETIFD_STATE"
    touch "$NFT_TABLE"
    cp "$UCI_DIR/dhcp.json" "$R/dhcp.orig"
    cp "$UCI_DIR/firewall.json" "$R/firewall.orig"
}

# init FUNCTION...: runs the init script's functions as rc.common would,
# with the models in place of OpenWrt's libraries; stdout, stderr to files.
init() {
    PATH="$MODEL:$PATH" sh -c '
        . "$MODEL/functions.sh"
        . "$MODEL/procd.sh"
        logger() { shift 3; echo "$*" >> "$LOG"; }
        nft() {
            case "$1 $2" in
            "list table") [ -f "$NFT_TABLE" ] ;;
            "delete table") rm -f "$NFT_TABLE" ;;
            esac
        }
        eval "$(sed 1d "$INIT" | sed "s#\. /lib/functions/network.sh#. $MODEL/network.sh#")"
        device_exists() { case " $DEVICES " in *" $1 "*) return 0 ;; esac; return 1; }
        reload_other() { echo "$1" >> "$RELOADS"; }
        for f in "$@"; do $f; done
    ' _ "$@" > "$R/out" 2> "$R/err"
}

# start: start_service then what procd does with it; prints the outcome.
start() {
    rm -f "$PROCD_DIR/instance.new"
    init start_service || { echo "start_service failed ($?)" >> "$R/out"; }
    [ ! -s "$R/err" ] || ! grep -q -e MODEL -e 'uci:' "$R/err" || fail "$(cat "$R/err")"
    PROCD_DIR="$PROCD_DIR" sh -c '. "$1/procd.sh"; procd_apply' _ "$MODEL"
}

cmdline() {
    sed -n 's/^command[+]*=//p' "$PROCD_DIR/instance" | tr '\n' ' ' | sed 's/ $//'
}

set_q() { "$MODEL/uci" set "queueless.main.$1=$2" && "$MODEL/uci" commit queueless; }

export MODEL INIT

# ---- 1. guest_network may be a network or a device ---------------------
router f1
[ "$(start)" = started ] || fail "1: the default network starts: $(cat "$R/out" "$R/err")"
cmdline | grep -q -- "--guest-interface br-guest " || fail "1: network guest resolves to br-guest: $(cmdline)"
for dev in br-guest phy1-ap0 eth0.3 wlan1; do
    router "f1-$dev"
    set_q guest_network "$dev"
    [ "$(start)" = started ] || fail "1: device $dev: $(cat "$R/out" "$R/err")"
    cmdline | grep -q -- "--guest-interface $dev --session-minutes 120" || fail "1: device $dev: $(cmdline)"
    cmdline | grep -q -- "--walled-garden\|--internet after_accept" || fail "1: $dev keeps the gateway flags"
done
grep -q "Allow-queueless-portal" "$UCI_DIR/firewall.json" && fail "1: wlan1 is in no network: no rule"
grep -q "belongs to no network" "$LOG" || fail "1: wlan1 in no network is logged"
router f1-eth
set_q guest_network eth0.3
start > /dev/null
"$MODEL/uci" get firewall.queueless.src | grep -qx iot || fail "1: eth0.3 belongs to network iot, zone iot"
router f1-unknown
set_q guest_network nosuch0
[ "$(start)" = none ] || fail "1: an unknown name starts nothing"
grep -q "neither a network" "$LOG" || fail "1: an unknown name is logged"
grep -q "neither a network" "$R/err" || fail "1: and said on stderr"
router f1-down
printf 'guest down - -\n' > "$NETIFD_STATE"
DEVICES="lo eth0"
[ "$(start)" = none ] || fail "1: a guest network that is down starts nothing yet"
grep -q "not up yet" "$LOG" || fail "1: waiting is logged"
init service_triggers
printf 'guest up br-guest 192.168.2.1\n' > "$NETIFD_STATE"
DEVICES="lo eth0 br-guest"
action="$(PROCD_DIR="$PROCD_DIR" sh -c '. "$1/procd.sh"; procd_event interface.update guest' _ "$MODEL")"
[ "$action" = "/etc/init.d/queueless reload" ] || fail "1: the network coming up reloads: $action"
[ "$(start)" = started ] || fail "1: and capture starts once it is up"
ok "1. guest_network: network or device (- and . too), unknown names fail loudly, capture starts when the network comes up"

# ---- 2. after installing, the portal is reachable without a reboot ------
router f2-plain
start > /dev/null
grep -qx firewall "$RELOADS" || fail "2: firewall not reloaded"
grep -q '114,' "$UCI_DIR/dhcp.json" && fail "2: option 114 announced without a trusted certificate"
router f2
set_q tls_cert /etc/queueless/portal.pem
set_q tls_key /etc/queueless/portal.key
start > /dev/null
grep -qx firewall "$RELOADS" || fail "2: firewall not reloaded"
grep -qx dnsmasq "$RELOADS" || fail "2: dnsmasq not reloaded"
"$MODEL/uci" changes | grep -q . && fail "2: uncommitted changes: $("$MODEL/uci" changes)"
grep -q '114,https://192.168.2.1:8443/api/captive-portal' "$UCI_DIR/dhcp.json" || fail "2: option 114 committed"
for f in openwrt/Makefile packaging/build.sh; do
    grep -q '/etc/init.d/queueless enable' "$f" || fail "2: $f postinst enables"
    grep -q '/etc/init.d/queueless restart' "$f" || fail "2: $f postinst (re)starts"
done
ok "2. the first start commits dhcp and firewall and reloads dnsmasq and fw4"

# ---- 3. removal leaves the router as it was -------------------------------
router f3
set_q tls_cert /etc/queueless/portal.pem
set_q tls_key /etc/queueless/portal.key
start > /dev/null
grep -q '114,' "$UCI_DIR/dhcp.json" || fail "3: option 114 announced before removal"
: > "$RELOADS"
init cleanup
cmp -s "$UCI_DIR/dhcp.json" "$R/dhcp.orig" || fail "3: dhcp not as before: $("$MODEL/uci" show dhcp)"
cmp -s "$UCI_DIR/firewall.json" "$R/firewall.orig" || fail "3: firewall not as before"
[ ! -f "$NFT_TABLE" ] || fail "3: table inet queueless left behind"
{ grep -qx firewall "$RELOADS" && grep -qx dnsmasq "$RELOADS"; } || fail "3: fw4 and dnsmasq reloaded"
for f in openwrt/Makefile packaging/build.sh; do
    grep -q '/etc/init.d/queueless cleanup' "$f" || fail "3: $f prerm cleans up"
done
ok "3. removal: option 114, host record, fw4 rule and the nft table gone, dhcp and firewall as before"

# ---- 4. lists given with uci set or uci add_list ----------------------
router f4
"$MODEL/uci" set queueless.main.trusted_mac='aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02'
"$MODEL/uci" add_list queueless.main.walled_garden=192.0.2.10
"$MODEL/uci" add_list queueless.main.walled_garden=198.51.100.0/24
"$MODEL/uci" set queueless.main.blocked_mac=11:22:33:44:55:66
"$MODEL/uci" commit queueless
start > /dev/null
want="/usr/bin/queueless --data-dir /etc/queueless serve --http [::]:8080 --https [::]:8443 --venue-name Our food court --language en --portal-host 192.168.2.1 --guest-interface br-guest --session-minutes 120 --idle-minutes 30 --internet after_accept --walled-garden 192.0.2.10 --walled-garden 198.51.100.0/24 --trusted-mac aa:bb:cc:dd:ee:01 --trusted-mac aa:bb:cc:dd:ee:02 --blocked-mac 11:22:33:44:55:66"
[ "$(cmdline)" = "$want" ] || fail "4: the command line is
  $(cmdline)
instead of
  $want"
ok "4. trusted_mac, walled_garden, blocked_mac from uci set and uci add_list"

# ---- 5. router entries derived at every start ---------------------------
router f5
"$MODEL/uci" delete network.guest && "$MODEL/uci" commit network
printf 'lan up br-lan 192.168.1.1\n' > "$NETIFD_STATE"
DEVICES="lo eth0 br-lan"
[ "$(start)" = none ] || fail "5: no guest network: nothing starts"
grep -q "uci: " "$R/err" && fail "5: uci errors: $(cat "$R/err")"
cmp -s "$UCI_DIR/firewall.json" "$R/firewall.orig" || fail "5: no rule for a zone that does not exist"
router f5-name
set_q portal_host portal.lan
set_q tls_cert /etc/queueless/portal.lan.pem
set_q tls_key /etc/queueless/portal.lan.key
start > /dev/null
[ "$("$MODEL/uci" get dhcp.queueless.name)" = portal.lan ] || fail "5: host record name"
[ "$("$MODEL/uci" get dhcp.queueless.ip)" = 192.168.2.1 ] || fail "5: host record address, not the name"
"$MODEL/uci" get dhcp.guest.dhcp_option_force | grep -q "114,https://portal.lan:8443/" || fail "5: 114 by name"
set_q https_port 9443
set_q http_port 8081
: > "$RELOADS"
[ "$(start)" = restarted ] || fail "5: a port change restarts"
opts="$("$MODEL/uci" get dhcp.guest.dhcp_option_force)"
[ "$opts" = "42,192.0.2.123 114,https://portal.lan:9443/api/captive-portal" ] || fail "5: option 114 follows the port: $opts"
[ "$("$MODEL/uci" get firewall.queueless.dest_port)" = "8081 9443" ] || fail "5: the rule follows the ports"
{ grep -qx firewall "$RELOADS" && grep -qx dnsmasq "$RELOADS"; } || fail "5: both reloaded after the change"
ok "5. option 114 (with a certificate only), host record (an address) and fw4 rule derived at every start; a missing network is an error, not a rule"

# ---- 6. reloads restart only on a real change -----------------------------
router f6
start > /dev/null
: > "$RELOADS"
[ "$(start)" = kept ] || fail "6: a reload with nothing changed keeps the daemon"
[ ! -s "$RELOADS" ] || fail "6: and reloads nothing else: $(cat "$RELOADS")"
grep -q '^reload_service()' "$INIT" && fail "6: a custom reload_service restarts every time"
grep -q 'procd_set_param file' "$INIT" && fail "6: a watched file restarts on edits that change nothing"
t="$(sed -n 's/^term_timeout=//p' "$PROCD_DIR/instance")"
[ "$t" -ge 30 ] || fail "6: term_timeout $t shorter than the daemon's shutdown"
set_q session_minutes 60
[ "$(start)" = restarted ] || fail "6: a real change restarts"
ok "6. reload keeps the daemon unless its command changed; term_timeout $t s"

# ---- 7. netifd events ----------------------------------------------------
router f7
start > /dev/null
init service_triggers
for ev in interface.update interface.down ifup; do
    for a in $(PROCD_DIR="$PROCD_DIR" sh -c '. "$1/procd.sh"; procd_event "$2" guest' _ "$MODEL" "$ev" | tr ' ' '_'); do
        [ "$a" = "/etc/init.d/queueless_reload" ] || fail "7: $ev runs $a"
        [ "$(start)" = kept ] || fail "7: $ev restarted the daemon"
    done
done
[ -z "$(PROCD_DIR="$PROCD_DIR" sh -c '. "$1/procd.sh"; procd_event interface.update lan' _ "$MODEL")" ] || fail "7: other networks' events"
ok "7. netifd's interface.update/down only reload; the daemon keeps running"

# ---- 8. the portal listens on IPv6 too -----------------------------------
router f8
set_q tls_cert /etc/queueless/portal.pem
set_q tls_key /etc/queueless/portal.key
start > /dev/null
cmdline | grep -q -- '--http \[::\]:8080 --https \[::\]:8443' || fail "8: $(cmdline)"
grep -q 'captive_portal_uri' "$UCI_DIR/dhcp.json" || fail "8: no RFC 8910 URI for odhcpd"
ok "8. listeners on [::] (IPv4 too)"

# ---- 9. ACME from UCI; option 114 once its certificate exists -----------
router f9
set_q portal_host portal.example.com
set_q data_dir "$R/data"
set_q acme_challenge http-01
set_q acme_contact ops@example.com
set_q acme_directory https://acme-staging-v02.api.letsencrypt.org/directory
"$MODEL/uci" set queueless.main.acme_dns_zone=example.com
"$MODEL/uci" commit queueless
[ "$(start)" = started ] || fail "9: ACME starts: $(cat "$R/out" "$R/err")"
want="/usr/bin/queueless --data-dir $R/data serve --http [::]:8080 --https [::]:8443 --venue-name Our food court --language en --portal-host portal.example.com --acme-challenge http-01 --acme-directory https://acme-staging-v02.api.letsencrypt.org/directory --acme-contact ops@example.com --acme-dns-zone example.com --guest-interface br-guest"
case "$(cmdline)" in "$want "*) ;; *) fail "9: the command line is
  $(cmdline)
instead of
  $want ..." ;; esac
grep -qx "env=QUEUELESS_PROCD_EVENT=queueless.certificate" "$PROCD_DIR/instance" || fail "9: the daemon is not asked for the procd event"
grep -q '114,' "$UCI_DIR/dhcp.json" && fail "9: option 114 before ACME's first certificate"
grep -q 'captive_portal_uri' "$UCI_DIR/dhcp.json" && fail "9: RFC 8910 URI before ACME's first certificate"
[ "$("$MODEL/uci" get dhcp.queueless.name)" = portal.example.com ] || fail "9: host record for the ACME name"
init service_triggers
action="$(PROCD_DIR="$PROCD_DIR" sh -c '. "$1/procd.sh"; procd_event queueless.certificate -' _ "$MODEL")"
[ "$action" = "/etc/init.d/queueless reload" ] || fail "9: the daemon's event reloads: $action"
mkdir -p "$R/data/acme"
: > "$R/data/acme/cert.pem"
[ "$(start)" = kept ] || fail "9: an empty certificate file changes nothing"
grep -q '114,' "$UCI_DIR/dhcp.json" && fail "9: option 114 for an empty certificate file"
printf -- '-----BEGIN CERTIFICATE-----\n' > "$R/data/acme/cert.pem"
: > "$RELOADS"
[ "$(start)" = kept ] || fail "9: the reload after the first certificate restarted the daemon"
"$MODEL/uci" get dhcp.guest.dhcp_option_force | grep -q "114,https://portal.example.com:8443/api/captive-portal" || fail "9: option 114 after the first certificate: $("$MODEL/uci" show dhcp)"
[ "$("$MODEL/uci" get dhcp.guest.captive_portal_uri)" = https://portal.example.com:8443/api/captive-portal ] || fail "9: RFC 8910 URI"
[ "$(cat "$RELOADS")" = "dnsmasq
odhcpd" ] || fail "9: only dnsmasq and odhcpd reloaded: $(cat "$RELOADS")"
: > "$RELOADS"
[ "$(start)" = kept ] || fail "9: a second reload restarts"
[ ! -s "$RELOADS" ] || fail "9: a second reload reloads $(cat "$RELOADS")"
init cleanup
cmp -s "$UCI_DIR/dhcp.json" "$R/dhcp.orig" || fail "9: cleanup leaves dhcp as before"
ok "9. ACME http-01 from UCI: --acme-* flags, no option 114 until DATA_DIR/acme/cert.pem holds a certificate; the daemon's procd event reloads, keeping the daemon and reloading only dnsmasq and odhcpd"

# ---- 10. DNS-01 from UCI; ACME leftovers without a challenge --------------
router f10
set_q portal_host portal.example.com
set_q https_port 443
set_q data_dir "$R/data"
for kv in acme_challenge=dns-01 acme_dns_server=192.0.2.53:53 acme_dns_zone=example.com \
    acme_tsig_key_name=queueless acme_tsig_secret_file=/etc/queueless/queueless.key \
    acme_dns_wait_seconds=30 acme_ca_bundle=/etc/ssl/certs/ca-certificates.crt; do
    "$MODEL/uci" set "queueless.main.$kv"
done
"$MODEL/uci" commit queueless
mkdir -p "$R/data/acme"
printf -- '-----BEGIN CERTIFICATE-----\n' > "$R/data/acme/cert.pem"
start > /dev/null
acme="$(cmdline | sed 's/.*--portal-host portal.example.com //; s/ --guest-interface.*//')"
[ "$acme" = "--acme-challenge dns-01 --acme-ca-bundle /etc/ssl/certs/ca-certificates.crt --acme-dns-server 192.0.2.53:53 --acme-dns-zone example.com --acme-tsig-key-name queueless --acme-tsig-secret-file /etc/queueless/queueless.key --acme-dns-wait-seconds 30" ] || fail "10: DNS-01 flags: $acme"
"$MODEL/uci" get dhcp.guest.dhcp_option_force | grep -q "114,https://portal.example.com/api/captive-portal" || fail "10: option 114 on port 443 has no port: $("$MODEL/uci" get dhcp.guest.dhcp_option_force)"
"$MODEL/uci" delete queueless.main.acme_challenge && "$MODEL/uci" commit queueless
[ "$(start)" = restarted ] || fail "10: switching ACME off restarts"
cmdline | grep -q -- '--acme-' && fail "10: ACME options without acme_challenge are passed: $(cmdline)"
grep -q QUEUELESS_PROCD_EVENT "$PROCD_DIR/instance" && fail "10: the procd event without ACME"
grep -q '114,' "$UCI_DIR/dhcp.json" && fail "10: option 114 from a kept ACME certificate with ACME off"
ok "10. ACME dns-01 from UCI: every --acme-* flag; option 114 without a port on 443; ACME options without acme_challenge are ignored"
echo "openwrt model checks passed"
