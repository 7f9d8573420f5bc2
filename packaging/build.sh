#!/bin/sh
# Builds the static x86_64 release binary and packs it as a .deb (with the
# systemd unit and a default config) and as an OpenWrt .ipk (with the procd
# init script, UCI config and uci-defaults). Output: target/packages/.
# Usage: packaging/build.sh [--no-build]   (--no-build reuses the binary)
set -eu
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-gnu
BIN="target/$TARGET/release/queueless"
OUT=target/packages
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

if [ "${1:-}" != "--no-build" ]; then
    # Static glibc cannot look up getrandom() at run time: use the system
    # call directly, so no /dev/urandom is needed (an empty chroot has none).
    # Relative relocations packed (RELR) keep the binary position-independent
    # without a quarter megabyte of relocation records.
    RUSTFLAGS="-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs --cfg getrandom_backend=\"linux_getrandom\"" \
        cargo build --release --locked --target "$TARGET"
fi
[ -x "$BIN" ] || { echo "no binary at $BIN; build first" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- .deb -------------------------------------------------------------
deb="$work/deb"
install -D -m 0755 "$BIN" "$deb/usr/bin/queueless"
install -D -m 0644 packaging/queueless.toml "$deb/etc/queueless/queueless.toml"
install -D -m 0644 systemd/queueless.service "$deb/lib/systemd/system/queueless.service"
install -D -m 0644 README.md "$deb/usr/share/doc/queueless/README.md"
mkdir -p "$deb/DEBIAN"
size="$(du -sk "$deb" | cut -f1)"
cat > "$deb/DEBIAN/control" <<CONTROL
Package: queueless
Version: $VERSION
Architecture: amd64
Maintainer: queueless developers <dev@queueless.invalid>
Installed-Size: $size
Depends: nftables
Section: net
Priority: optional
Homepage: https://github.com/queueless/queueless
Description: venue ordering hub and captive portal
 Guests join the open Wi-Fi and order from any stall on the captive
 portal; their phone tells them when the order is ready. Shopkeepers run
 their counter from a live dashboard.
CONTROL
echo /etc/queueless/queueless.toml > "$deb/DEBIAN/conffiles"
cat > "$deb/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    systemctl enable queueless.service || true
fi
exit 0
SCRIPT
cat > "$deb/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl stop queueless.service || true
    [ "$1" = remove ] && systemctl disable queueless.service || true
fi
exit 0
SCRIPT
chmod 0755 "$deb/DEBIAN/postinst" "$deb/DEBIAN/prerm"
dpkg-deb --root-owner-group -Zgzip --build "$deb" "$OUT/queueless_${VERSION}_amd64.deb" >/dev/null

# ---- .ipk (OpenWrt: a gzip'd tar of debian-binary, data and control) ---
ipk="$work/ipk"
data="$ipk/data"
ctrl="$ipk/control"
install -D -m 0755 "$BIN" "$data/usr/bin/queueless"
install -D -m 0755 openwrt/files/queueless.init "$data/etc/init.d/queueless"
install -D -m 0600 openwrt/files/queueless.config "$data/etc/config/queueless"
install -D -m 0644 openwrt/files/queueless.keep "$data/lib/upgrade/keep.d/queueless"
mkdir -p "$ctrl"
cat > "$ctrl/control" <<CONTROL
Package: queueless
Version: $VERSION-r1
Depends: libc, nftables-json, kmod-nft-nat, kmod-nf-conntrack-netlink
Source: openwrt/
License: MIT OR Apache-2.0
Section: net
Architecture: x86_64
Installed-Size: $(du -sb "$data" | cut -f1)
Description: venue ordering hub and captive portal
CONTROL
echo /etc/config/queueless > "$ctrl/conffiles"
# Same scripts as openwrt/Makefile's postinst and prerm.
cat > "$ctrl/postinst" <<'SCRIPT'
#!/bin/sh
[ -n "$IPKG_INSTROOT" ] && exit 0
# The start derives option 114, the host record and the fw4 rule from
# /etc/config/queueless, commits them and reloads dnsmasq and fw4.
/etc/init.d/queueless enable
/etc/init.d/queueless restart
exit 0
SCRIPT
cat > "$ctrl/prerm" <<'SCRIPT'
#!/bin/sh
[ -n "$IPKG_INSTROOT" ] && exit 0
/etc/init.d/queueless stop
/etc/init.d/queueless disable
# Leaves the router as it was: dhcp, firewall and the nft table.
/etc/init.d/queueless cleanup
exit 0
SCRIPT
chmod 0755 "$ctrl/postinst" "$ctrl/prerm"
echo "2.0" > "$ipk/debian-binary"
tar --owner=0 --group=0 --numeric-owner -czf "$ipk/data.tar.gz" -C "$data" .
tar --owner=0 --group=0 --numeric-owner -czf "$ipk/control.tar.gz" -C "$ctrl" .
# Named as OpenWrt names packages: NAME_VERSION-rRELEASE_ARCH.
tar --owner=0 --group=0 --numeric-owner -czf "$OUT/queueless_${VERSION}-r1_x86_64.ipk" \
    -C "$ipk" ./debian-binary ./data.tar.gz ./control.tar.gz

ls -l "$OUT"
