"""A guest's kept-alive connection across its join, for the gateway tests.
The first request on it is caught by the redirect (prints its status);
after a line on stdin (the test joined meanwhile) the next request on the
same connection is sent and its fate printed: a status, or "reset" or
"closed" when the connection no longer exists on the other side.
Usage: keepalive.py HOST"""
import socket
import sys

host = sys.argv[1]
conn = socket.create_connection((host, 80), timeout=5)
request = ("GET /generate_204 HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode()


def answer():
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return "closed"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head.split(b" ")[1].decode()


conn.sendall(request)
print(answer(), flush=True)
sys.stdin.readline()
try:
    conn.sendall(request)
    print(answer(), flush=True)
except (ConnectionResetError, BrokenPipeError):
    print("reset", flush=True)
except socket.timeout:
    print("timeout", flush=True)
