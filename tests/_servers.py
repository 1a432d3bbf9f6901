"""Real HTTP servers for the backend tests, all on 127.0.0.1.

* :func:`llama_server` runs llama-cpp-python's own OpenAI-compatible server
  (``python -m llama_cpp.server``) in a child process.
* :class:`ScriptedServer` is a small stdlib server that answers each request with the next
  scripted behaviour (an error status, a hang, a malformed body, or a valid chat
  completion), to exercise retries, time-outs and error handling against a real socket.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def llama_server(model_path, *, alias="smollm2", n_ctx=1024, n_threads=1,
                 startup_timeout=120):
    """Run ``python -m llama_cpp.server`` on a free port; yield its ``/v1`` base URL.

    Waits until ``GET /v1/models`` answers, and terminates (then kills) the server on exit.
    Its output goes to a temporary file that is shown if the server dies during start-up.
    """
    import tempfile

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
           "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", str(n_ctx), "--n_threads", str(n_threads),
           # Prompt evaluation on all cores is much slower when other processes compete.
           "--n_threads_batch", str(n_threads), "--verbose", "False"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n"
                                       + log.read().decode(errors="replace")[-3000:])
                try:
                    with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"llama_cpp.server not up after {startup_timeout} s")
                time.sleep(0.25)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def chat_completion_body(text="def f():\n    return 1", prompt_tokens=12, completion_tokens=7):
    """A valid OpenAI chat completion response, as a dict."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


# Behaviours a script is made of.
def status(code, headers=None):
    """Answer with an error status and an OpenAI-style error body."""
    return ("status", code, headers or {})


def hang(seconds):
    """Send nothing for ``seconds`` (the test server is closed sooner if the test ends)."""
    return ("hang", seconds)


def raw(body, content_type="application/json", code=200):
    """Answer with this exact body."""
    return ("raw", code, content_type, body)


def ok(**kwargs):
    """Answer with a valid chat completion (:func:`chat_completion_body` arguments)."""
    return ("raw", 200, "application/json", json.dumps(chat_completion_body(**kwargs)))


class ScriptedServer:
    """An HTTP server answering request *i* with ``script[i]`` (the last one thereafter).

    Use as a context manager. ``requests`` records each request's path, headers and JSON
    body, so a test can count attempts and check what the client sent.

    Examples
    --------
    >>> with ScriptedServer([status(500), ok()]) as server:
    ...     server.base_url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                payload = self.rfile.read(length)
                with server._lock:
                    index = len(server.requests)
                    server.requests.append({
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "json": json.loads(payload) if payload else None,
                    })
                    action = server.script[min(index, len(server.script) - 1)]
                if action[0] == "hang":
                    server._release.wait(action[1])
                    return
                if action[0] == "status":
                    _, code, headers = action
                    body = json.dumps({"error": {"message": f"scripted {code}",
                                                 "type": "server_error", "code": code}})
                    content_type = "application/json"
                else:
                    _, code, content_type, body = action
                    headers = {}
                data = body.encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (time-out tests)

            def log_message(self, *args):
                pass  # keep test output clean

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        # A short poll interval makes shutdown() quick; the default costs 0.5 s per test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._release.set()  # end any hanging handler
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
