"""What emulator.py and front.py share: serve on 127.0.0.1, say where, and
(with --exit-on-eof) stop when the parent closes our stdin."""
import os
import sys
import threading


def serve(server, exit_on_eof: bool, scheme: str = "http") -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on {scheme}://127.0.0.1:{server.server_port}", flush=True)
    if exit_on_eof:
        sys.stdin.read()
        os._exit(0)
    threading.Event().wait()
