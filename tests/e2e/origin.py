#!/usr/bin/env python3
"""Origin server for the e2e tests, run inside a test container.

Serves GET and HEAD on every port given on the command line; a port
followed by ":tls" serves HTTPS with the certificate in /srv/cert.pem.
Every response body is "origin <Host header> port <port>\n", so a test
can check which name and port a request reached.
"""
import http.server
import socketserver
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def _reply(self, with_body):
        body = "origin {} port {}\n".format(
            self.headers.get("Host", "-"), self.server.server_address[1]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self._reply(True)

    def do_HEAD(self):
        self._reply(False)

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: " + (fmt % args) + "\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(spec):
    port, _, mode = spec.partition(":")
    server = Server(("0.0.0.0", int(port)), Handler)
    if mode == "tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain("/srv/cert.pem", "/srv/key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


def main():
    threads = [threading.Thread(target=serve, args=(spec,), daemon=True)
               for spec in sys.argv[1:]]
    for thread in threads:
        thread.start()
    print("origin: listening on " + " ".join(sys.argv[1:]), flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
