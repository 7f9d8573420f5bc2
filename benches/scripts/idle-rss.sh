#!/bin/sh
# Idle memory of a queueless binary: starts it with the demo venue on a
# free port for each worker_threads value, waits until it is idle, and
# prints its RSS split into anonymous (its own heap and stacks) and file
# pages (code, shared or dropped under pressure), and its threads.
# Usage: benches/scripts/idle-rss.sh BINARY [WORKER_THREADS...]
set -eu
bin="$1"; shift
[ $# -gt 0 ] || set -- 1 2 4
echo "| worker_threads | threads | VmRSS | anonymous | file | VmHWM |"
echo "|---|---|---|---|---|---|"
for w in "$@"; do
    dir="$(mktemp -d)"
    port=$(( 20000 + $$ % 20000 ))
    printf 'data_dir = "%s/data"\nhttp = "127.0.0.1:%s"\ndemo = true\n' \
        "$dir" "$port" > "$dir/q.toml"
    MALLOC_MMAP_THRESHOLD_=262144 QUEUELESS_WORKER_THREADS="$w" \
        "$bin" --config "$dir/q.toml" serve >/dev/null 2>&1 &
    pid=$!
    # Up, one guest's menu and order page fetched, then idle.
    for _ in $(seq 50); do
        curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$port/api/shops" >/dev/null 2>&1 || true
    sleep 3
    s=/proc/$pid/status
    f() { awk -v k="$1:" '$1 == k { print $2 }' "$s"; }
    echo "| $w | $(f Threads) | $(f VmRSS) KiB | $(f RssAnon) KiB | $(f RssFile) KiB | $(f VmHWM) KiB |"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
done
