#!/usr/bin/env python3
"""The API contract, checked by a client we did not write.

Runs schemathesis (every check, `--checks all`) against `/api/openapi.json`
of the real daemon, three times: as a guest, logged in as a shopkeeper and
logged in as the admin, each against a fresh demo venue. Any failure fails
the run.

usage: tests/contract/run.py [--binary PATH] [--examples N] [--seconds S]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

DEMO_PASSWORD = "queueless-demo"
ROLES = {
    "guest": None,
    "shopkeeper": "tea@demo.queueless",
    "admin": "admin@demo.queueless",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the daemon did not answer {url} in time")


def login(base, email):
    req = urllib.request.Request(
        f"{base}/api/auth/login",
        data=json.dumps({"email": email, "password": DEMO_PASSWORD}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        for value in r.headers.get_all("set-cookie"):
            name, _, rest = value.partition("=")
            if name == "ql_session":
                return f"ql_session={rest.split(';')[0]}"
    raise SystemExit(f"logging in as {email} gave no session cookie")


def tool_error_only(output):
    """Whether a run ended only on schemathesis's own runtime errors (such as
    CPython's "AST constructor recursion depth mismatch" in its workers), with
    no failed check against the API."""
    return "Runtime Error" in output and "FAILURES" not in output


def run_role(binary, role, email, examples, seconds, report_dir):
    data = tempfile.mkdtemp(prefix=f"ql-contract-{role}-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(report_dir, f"daemon-{role}.log"), "w")
    env = dict(os.environ, QUEUELESS_LOG="warn")
    daemon = subprocess.Popen(
        [binary, "serve", "--demo", "--data-dir", data, "--http", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for(f"{base}/api/openapi.json", time.monotonic() + 30)
        here = os.path.dirname(os.path.abspath(__file__))
        cmd = [
            sys.executable, "-m", "schemathesis.cli", "--config-file", os.path.join(here, "schemathesis.toml"),
            "run", f"{base}/api/openapi.json",
            "--checks", "all",
            "--max-examples", str(examples),
            "--max-time", str(seconds),
            "--seed", "20261201",
            # One worker: CPython 3.11 can fail inside `ast` when two threads
            # of hypothesis describe their strategies at once.
            "--workers", "1",
            "--request-timeout", "10",
            "--suppress-health-check", "all",
            "--report", "junit",
            "--report-junit-path", os.path.join(report_dir, f"{role}.xml"),
        ]
        run_env = dict(os.environ, QL_SESSION="")
        if email:
            run_env["QL_SESSION"] = login(base, email).split("=", 1)[1]
            # Logging out would end the very session the run tests with.
            cmd += ["--exclude-path", "/api/auth/logout"]
        for attempt in (1, 2):
            print(f"== schemathesis as {role}", flush=True)
            started = time.monotonic()
            result = subprocess.run(cmd, env=run_env, stdout=subprocess.PIPE, text=True)
            print(result.stdout, flush=True)
            print(f"== {role}: exit {result.returncode} in {time.monotonic() - started:.0f} s", flush=True)
            if daemon.poll() is not None:
                print(f"the daemon exited during the {role} run", file=sys.stderr)
                return 1
            if result.returncode == 0 or attempt == 2 or not tool_error_only(result.stdout):
                return result.returncode
            # schemathesis (or CPython under it) failed inside itself, with
            # no failure of ours found: once more, and a second such run fails.
            print(f"== schemathesis itself erred (no API failure); {role} once more", flush=True)
        return 1
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/debug/queueless")
    p.add_argument("--examples", type=int, default=50)
    p.add_argument("--seconds", type=int, default=150)
    p.add_argument("--role", choices=list(ROLES), action="append")
    args = p.parse_args()
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        raise SystemExit("schemathesis is not installed: python3 -m pip install schemathesis")
    report_dir = tempfile.mkdtemp(prefix="ql-contract-report-")
    failed = []
    for role in args.role or list(ROLES):
        if run_role(args.binary, role, ROLES[role], args.examples, args.seconds, report_dir) != 0:
            failed.append(role)
    print(f"reports and daemon logs in {report_dir}")
    if failed:
        raise SystemExit(f"the API contract failed as: {', '.join(failed)}")
    print("the API contract holds as guest, shopkeeper and admin")


if __name__ == "__main__":
    main()
