"""moto's S3 server with conditional writes made atomic.

moto (5.2) checks If-None-Match / If-Match and then stores the object in two steps, and its
threaded server can interleave two requests between them: in a probe, one round in thirty of
32 concurrent `If-None-Match: *` PUTs had two winners. Real S3 never lets that happen, and the
storage contract suite checks it. This launcher runs moto's own WSGI app with one lock around
every mutating request (PUT, POST, DELETE); reads stay concurrent.

usage: python3 moto_serial.py <host> <port>
"""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    if environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE"):
        with lock:
            # Run the whole request, response body included, under the lock.
            return [b"".join(app(environ, start_response))]
    return app(environ, start_response)


run_simple(host, port, serialized, threaded=True)
