"""A stand-in for the internet in the gateway tests: the connectivity-check
URLs of Android, Apple, Windows and Firefox over HTTP, and one HTTPS page.
Usage: upstream.py CERT KEY (listens on 0.0.0.0:80 and :443)."""
import http.server
import socket
import ssl
import sys
import threading

ANSWERS = {
    "/generate_204": (204, b""),
    "/hotspot-detect.html": (200, b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"),
    "/connecttest.txt": (200, b"Microsoft Connect Test"),
    "/canonical.html": (200, b"<meta http-equiv=\"refresh\" content=\"0;url=https://support.mozilla.org/kb/captive-portal\"/>"),
    "/success.txt": (200, b"success\n"),
    "/blob": (200, b"x" * 200_000),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = ANSWERS.get(self.path, (200, b"upstream\n"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


class DualStack(http.server.ThreadingHTTPServer):
    """IPv6 and IPv4 on one socket (IPv4 peers as mapped addresses)."""

    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    plain = DualStack(("::", 80), Handler)
    secure = DualStack(("::", 443), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    secure.socket = ctx.wrap_socket(secure.socket, server_side=True)
    threading.Thread(target=secure.serve_forever, daemon=True).start()
    print("ready", flush=True)
    plain.serve_forever()


main()
