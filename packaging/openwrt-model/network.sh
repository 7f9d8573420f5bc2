# A model of OpenWrt's /lib/functions/network.sh over netifd's state in
# $NETIFD_STATE (lines "NAME up|down L3DEVICE IPV4"). Only logical network
# names can be asked: the real library builds shell variable names from
# them, and a `-` or `.` gives garbage (`guest_l3_device:+-…`) or kills the
# script (`bad substitution`); the model stops the test then.
__network_line() {
	case "$1" in
	"" | *[!A-Za-z0-9_]*)
		echo "MODEL: network.sh asked about '$1', which is not a network name" >&2
		exit 99
		;;
	esac
	grep "^$1 up " "$NETIFD_STATE" 2>/dev/null
}
network_get_device() {
	local l
	l="$(__network_line "$2")" || { eval "$1=''"; return 1; }
	eval "$1=\$(echo \"\$l\" | cut -d' ' -f3)"
}
network_get_ipaddr() {
	local l
	l="$(__network_line "$2")" || { eval "$1=''"; return 1; }
	eval "$1=\$(echo \"\$l\" | cut -d' ' -f4)"
}
