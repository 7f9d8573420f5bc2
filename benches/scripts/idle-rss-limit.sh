#!/bin/sh
# What the idle daemon's memory is made of, shown by taking it away: starts
# a binary with the demo venue in a memory cgroup (v1, under
# /sys/fs/cgroup/memory; root) from a fresh copy of the binary, so its code
# pages are charged to that cgroup as on a router that just booted; then
# lowers the cgroup's limit step by step and, at each, reads RSS (anonymous
# and file pages), checks the daemon still answers (200 requests: the front
# page and a menu) and prints their p50/p99 and the page faults they cost.
# The kernel gives back clean code pages first; the anonymous part is the
# floor. Usage: benches/scripts/idle-rss-limit.sh BINARY [LIMIT_MIB...]
set -eu
bin="$1"; shift
[ $# -gt 0 ] || set -- 64 8 6 5 4.5 4
cg=/sys/fs/cgroup/memory
[ -w "$cg" ] || { echo "needs root and the cgroup v1 memory controller at $cg" >&2; exit 1; }
me="$cg/ql-idle-$$"
dir="$(mktemp -d)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -d "$me" ] && rmdir "$me" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap "exit 1" INT TERM
mkdir "$me"
port=$(( 21000 + $$ % 20000 ))
printf 'data_dir = "%s/data"\nhttp = "127.0.0.1:%s"\ndemo = true\n' "$dir" "$port" > "$dir/q.toml"
# The copy is written from inside the cgroup: its page cache is charged here.
sh -c "echo \$\$ > $me/cgroup.procs; cp '$bin' '$dir/queueless'; sync '$dir/queueless'; exec env MALLOC_MMAP_THRESHOLD_=262144 '$dir/queueless' --config '$dir/q.toml' serve" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/api/shops" >/dev/null
sleep 3
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
faults() { awk '{ print $12 }' "/proc/$pid/stat"; }
if [ -n "${SHOW_STAT:-}" ]; then
    grep -E "^(cache|rss|rss_huge|mapped_file|dirty|writeback|inactive_file|active_file|inactive_anon|active_anon) " "$me/memory.stat" >&2
    echo "usage $(cat "$me/memory.usage_in_bytes") kmem $(cat "$me/memory.kmem.usage_in_bytes" 2>/dev/null)" >&2
fi
echo "| cgroup limit | VmRSS | anonymous | file | answers | p50 | p99 | major faults per request |"
echo "|---|---|---|---|---|---|---|---|"
for mib in "$@"; do
    bytes=$(awk -v m="$mib" 'BEGIN { printf "%d", m * 1048576 }')
    if ! echo "$bytes" > "$me/memory.limit_in_bytes" 2>/dev/null; then
        echo "| $mib MiB | the kernel could not reclaim down to it (limit refused) |||||||"
        break
    fi
    sleep 1
    rss="$(status VmRSS) KiB | $(status RssAnon) KiB | $(status RssFile) KiB"
    f0=$(faults)
    ok=0
    times="$dir/times"
    : > "$times"
    for i in $(seq 100); do
        for path in / /api/shops/1/menu; do
            if curl -fsS -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$path" >> "$times" 2>/dev/null; then
                ok=$((ok + 1))
            fi
        done
    done
    kill -0 "$pid" 2>/dev/null || { echo "| $mib MiB | the daemon was killed ($(grep "^oom_kill " "$me/memory.oom_control")) |||||||"; pid=""; break; }
    f1=$(faults)
    p=$(sort -n "$times" | awk '{ a[NR] = $1 } END { if (NR) printf "%.1f ms | %.1f ms", a[int(NR*0.5)+1]*1000, a[int(NR*0.99)]*1000; else print "- | -" }')
    echo "| $mib MiB | $rss | $ok/200 | $p | $(awk -v a="$f0" -v b="$f1" 'BEGIN { printf "%.2f", (b - a) / 200 }') |"
done
