# A model of procd as the init script meets it (procd.sh's helpers and
# what procd does with the service data): each start_service run produces
# instance data, written to $PROCD_DIR/instance; procd restarts a running
# daemon only when that data differs from the running one's, and only after
# the old process exited. Triggers are recorded as "EVENT NAME ACTION".
procd_open_instance() { PROCD_DATA=""; PROCD_OPEN=1; }
procd_set_param() {
	local k="$1"
	shift
	PROCD_DATA="$PROCD_DATA
$k=$*"
}
procd_append_param() {
	local k="$1"
	shift
	PROCD_DATA="$PROCD_DATA
$k+=$*"
}
procd_close_instance() {
	printf '%s\n' "$PROCD_DATA" > "$PROCD_DIR/instance.new"
	PROCD_OPEN=""
}
procd_add_reload_trigger() { echo "config.change $1 reload" >> "$PROCD_DIR/triggers"; }
procd_add_interface_trigger() {
	local ev="$1" name="$2"
	shift 2
	echo "$ev $name $*" >> "$PROCD_DIR/triggers"
}
procd_add_raw_trigger() {
	local ev="$1"
	shift 2
	echo "$ev - $*" >> "$PROCD_DIR/triggers"
}
# procd_apply: what procd does after `service set`: no instance data means
# the service has no instance (stopped); same data keeps the process; new
# data restarts it. Prints started, kept, restarted or none.
procd_apply() {
	if [ ! -f "$PROCD_DIR/instance.new" ]; then
		rm -f "$PROCD_DIR/instance"
		echo none
	elif [ ! -f "$PROCD_DIR/instance" ]; then
		mv "$PROCD_DIR/instance.new" "$PROCD_DIR/instance"
		echo started
	elif cmp -s "$PROCD_DIR/instance.new" "$PROCD_DIR/instance"; then
		rm -f "$PROCD_DIR/instance.new"
		echo kept
	else
		mv "$PROCD_DIR/instance.new" "$PROCD_DIR/instance"
		echo restarted
	fi
}
# procd_event EVENT NAME: the actions of the triggers that match, as procd
# matches: in a pattern with ".*" only the part before it is compared (as
# a prefix: "interface.*.up" fires on interface.update and interface.down
# too), anything else must be equal; the name must be equal.
procd_event() {
	local ev name action
	while read -r ev name action; do
		case "$ev" in
		*.\**) case "$1" in "${ev%%.\**}."*) ;; *) continue ;; esac ;;
		*) [ "$ev" = "$1" ] || continue ;;
		esac
		[ "$name" = "$2" ] || [ "$name" = - ] || continue
		echo "$action"
	done < "$PROCD_DIR/triggers"
}
