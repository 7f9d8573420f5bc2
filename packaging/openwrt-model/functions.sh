# A model of OpenWrt's /lib/functions.sh for packaging tests (written from
# its documented behaviour, not its code): config_load sets CONFIG_ vars as
# uci_load does; config_get reads an option (a list reads as its items
# joined by spaces); config_list_foreach walks only real lists (_ITEMn up to
# _LENGTH), so an option made by `uci set` is skipped, as on a router.
config_load() {
	eval "$(uci --shell-vars "$1")"
}
config_get() {
	eval "$1=\"\${CONFIG_$2_$3:-\${4:-}}\""
}
config_get_bool() {
	local _v
	config_get _v "$2" "$3" "${4:-0}"
	case "$_v" in
	1 | on | true | yes | enabled) _v=1 ;;
	*) _v=0 ;;
	esac
	eval "$1=\$_v"
}
config_list_foreach() {
	local section="$1" option="$2" function="$3" len c=1 val
	shift 3
	config_get len "$section" "${option}_LENGTH"
	[ -n "$len" ] || return 0
	while [ "$c" -le "$len" ]; do
		config_get val "$section" "${option}_ITEM$c"
		"$function" "$val" "$@"
		c=$((c + 1))
	done
}
