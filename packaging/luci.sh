#!/bin/sh
# Checks luci-app-queueless without a router: every JSON file parses; every
# view passes `node --check` (wrapped in a function, as LuCI loads a view
# as a function body); the menu points at views that exist and needs the
# app's ACL; the ACL grants nothing but uci `queueless` and the rpcd
# plugin's own calls, which are exactly what the plugin lists and the
# views call; the plugin is clean under shellcheck.
set -eu
cd "$(dirname "$0")/.."
APP=luci-app-queueless
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v node >/dev/null; then
    [ -n "${CI:-}" ] && fail "node missing (apt install nodejs)"
    echo "SKIPPED: node missing"
    exit 0
fi
for f in "$APP"/root/usr/share/luci/menu.d/*.json "$APP"/root/usr/share/rpcd/acl.d/*.json; do
    python3 -m json.tool "$f" > /dev/null || fail "$f is not valid JSON"
done
ok "JSON valid"
n=0
for f in "$APP"/htdocs/luci-static/resources/view/queueless/*.js; do
    { echo "(function() {"; cat "$f"; echo "})"; } > "$work/view.js"
    node --check "$work/view.js" || fail "node --check $f"
    n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "views missing"
ok "node --check on $n views"
sh "$APP/root/usr/libexec/rpcd/queueless" list > "$work/list.json"
python3 - "$APP" "$work/list.json" <<'PY' || fail "ACL, menu or plugin"
import json, os, re, sys
app, listed = sys.argv[1], sys.argv[2]
acl = json.load(open(f"{app}/root/usr/share/rpcd/acl.d/{app}.json"))
menu = json.load(open(f"{app}/root/usr/share/luci/menu.d/{app}.json"))
plugin = set(json.load(open(listed)))
assert list(acl) == [app], f"one ACL group named {app}: {list(acl)}"
grants = acl[app]
assert set(grants) <= {"description", "read", "write"}, grants
granted = set()
for kind in ("read", "write"):
    g = grants.get(kind, {})
    assert set(g) <= {"ubus", "uci"}, f"{kind} grants more than ubus and uci: {set(g)}"
    assert g.get("uci", []) == ["queueless"], f"{kind}: uci other than queueless: {g.get('uci')}"
    ubus = g.get("ubus", {})
    assert set(ubus) <= {"queueless"}, f"{kind}: ubus objects beyond queueless: {set(ubus)}"
    for m in ubus.get("queueless", []):
        assert m in plugin, f"{kind}: {m} is not a call of the plugin"
        assert "*" not in m
        granted.add(m)
assert granted == plugin, f"granted {granted}, the plugin has {plugin}"
assert grants["read"]["ubus"]["queueless"] == ["clients"], "reading grants only the list"
views = f"{app}/htdocs/luci-static/resources/view"
called = set()
for root, _, files in os.walk(views):
    for f in files:
        src = open(os.path.join(root, f)).read()
        for obj, method in re.findall(r"object:\s*'([^']+)',\s*method:\s*'([^']+)'", src):
            assert obj == "queueless", f"{f} calls ubus object {obj}"
            called.add(method)
assert called == plugin, f"the views call {called}, the plugin has {plugin}"
for path, node in menu.items():
    a = node.get("action", {})
    if a.get("type") == "view":
        assert os.path.exists(f"{views}/{a['path']}.js"), f"menu {path}: no view {a['path']}"
    if "depends" in node:
        assert node["depends"]["acl"] == [app], f"menu {path} needs the app's ACL"
PY
ok "the ACL grants only uci queueless and the plugin's calls (clients to read; authorize, deauthorize to write); menu views exist"
if command -v shellcheck >/dev/null; then
    shellcheck -s sh -e SC3043 "$APP/root/usr/libexec/rpcd/queueless" packaging/luci.sh
    ok "shellcheck rpcd plugin"
fi
echo "luci checks passed"
