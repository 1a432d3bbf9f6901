"""Parent side of the sandbox: start the harness, feed it, watch it, kill it, judge it."""

import json
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

__all__ = ["run_tests", "TestResult"]

_HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_harness.py")
_POSIX = os.name == "posix"
# Fresh uids for runs started as root: high enough to collide with no real
# account, random so that concurrent runs (threads or processes) do not share one.
_UID_BASE = 0x40000000
_UID_SPAN = 0x3FFF0000
# Signals by which the kernel enforces our resource limits.
_LIMIT_SIGNALS = {
    getattr(signal, "SIGXCPU", None): "CPU time limit exceeded (SIGXCPU)",
    getattr(signal, "SIGXFSZ", None): "file size limit exceeded (SIGXFSZ)",
    getattr(signal, "SIGKILL", None):
        "killed by SIGKILL (memory or CPU hard limit, or the program killed itself)",
}


@dataclass(frozen=True)
class TestResult:
    """Outcome of one :func:`run_tests` call.

    Attributes
    ----------
    passed : bool
        True only when every test ran in the harness and held.
    status : {"passed", "failed", "timeout", "error"}
        ``"failed"``: an assertion failed or the candidate code, setup or a test raised,
        exited early or died from a signal of its own. ``"error"``: the program could
        not run (syntax error), hit a resource limit (memory, CPU, file size) or the
        sandbox itself failed. ``"timeout"``: the wall-clock limit was exceeded.
    reason : str
        Human-readable explanation: the failing assert, the exception line, the limit.
    n_tests : int
        Number of tests given.
    n_tests_passed : int
        Number of tests that ran and held before the run ended.
    duration : float
        Wall-clock seconds of the whole call (start, run, kill, cleanup).
    returncode : int or None
        Exit code of the sandbox process (negative: killed by that signal; above 128:
        the program died from signal ``returncode - 128`` inside the namespace).
    stdout, stderr : str
        Captured output, at most ``output_limit`` bytes each (decoded as UTF-8).
    truncated : bool
        Whether stdout or stderr was cut at ``output_limit``.
    isolation : tuple of str
        The protections actually applied to this run, e.g. ``"pidns"``, ``"netns"``,
        ``"mountns"``, ``"readonly-fs"``, ``"unprivileged-uid"``,
        ``"rlimit:core+as+cpu+fsize+nproc"``. See the module docstring.

    Examples
    --------
    >>> res = run_tests("x = 1", ["assert x == 1", "assert x == 2"])
    >>> res.passed, res.status, res.n_tests, res.n_tests_passed
    (False, 'failed', 2, 1)
    >>> res.reason
    'test 2/2 failed: assert x == 2'
    """

    __test__ = False  # keep pytest from collecting this class as a test case

    passed: bool
    status: str
    reason: str
    n_tests: int = 0
    n_tests_passed: int = 0
    duration: float = 0.0
    returncode: int = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    isolation: tuple = field(default_factory=tuple)


class _Capped:
    """Keep the first ``limit`` bytes of a stream, count and drop the rest."""

    def __init__(self, limit):
        self.limit = limit
        self.chunks = []
        self.kept = 0
        self.dropped = 0

    def add(self, data):
        room = self.limit - self.kept
        if room > 0:
            self.chunks.append(data[:room])
            self.kept += min(room, len(data))
        self.dropped += max(0, len(data) - max(room, 0))

    def text(self):
        return b"".join(self.chunks).decode("utf-8", "replace")


class _Results:
    """Parse the harness's records and check them against the run's tokens."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.buffer = b""
        self.n_ok = 0
        self.done = False
        self.isolation = None
        self.problem = None  # first "fail" or "error" record
        self.forged = 0

    def add(self, data):
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            self._record(line)
        if len(self.buffer) > 1 << 16:  # garbage without newlines
            self.forged += 1
            self.buffer = b""

    def _record(self, line):
        try:
            rec = json.loads(line)
            kind = rec["k"]
        except (ValueError, TypeError, KeyError):
            self.forged += 1
            return
        n = len(self.tokens) - 1
        if kind == "ok":
            i = rec.get("i")
            if i == self.n_ok and i < n and rec.get("t") == self.tokens[i]:
                self.n_ok += 1
            else:
                self.forged += 1
        elif kind == "done":
            if self.n_ok == n and rec.get("t") == self.tokens[n]:
                self.done = True
            else:
                self.forged += 1
        elif kind == "iso" and self.isolation is None:
            self.isolation = tuple(str(x) for x in rec.get("applied", ()))
        elif kind in ("fail", "error") and self.problem is None:
            self.problem = rec


def _where(rec, n):
    stage, i = rec.get("stage"), rec.get("i")
    if stage == "test" and isinstance(i, int):
        return "test %d/%d" % (i + 1, n)
    return {"code": "the code", "setup": "the setup"}.get(stage, "the program")


def _judge(results, n, timed_out, returncode, timeout, memory_limit_mb, stderr):
    """Return ``(status, reason)`` from what the parent observed."""
    progress = "%d/%d tests passed" % (results.n_ok, n)
    if results.done:
        return "passed", "all %d tests passed" % n
    if timed_out:
        return "timeout", "timed out after %g s (%s)" % (timeout, progress)
    rec = results.problem
    if rec is not None:
        where = _where(rec, n)
        etype, msg = rec.get("etype", "Exception"), rec.get("msg", "")
        line = rec.get("line")
        at = " (line %s)" % line if line else ""
        if rec["k"] == "error":
            return "error", "%s in %s%s: %s" % (etype, where, at, msg)
        if etype == "MemoryError":
            return "error", "memory limit of %s MB exceeded: MemoryError in %s%s" % (
                memory_limit_mb, where, at)
        if etype == "AssertionError" and rec.get("src"):
            detail = ": %s" % msg if msg else ""
            return "failed", "%s failed: %s%s" % (where, rec["src"].strip(), detail)
        if etype == "SystemExit":
            return "failed", "%s called exit(%s) before the tests finished (%s)" % (
                where, msg, progress)
        return "failed", "%s raised %s%s: %s" % (where, etype, at, msg)
    if results.isolation is None:
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        return "error", "sandbox failed to start (exit code %s): %s" % (returncode, last[0])
    sig = None
    if returncode is not None and returncode < 0:
        sig = -returncode
    elif returncode is not None and returncode > 128:
        sig = returncode - 128
    if sig is not None:
        if sig in _LIMIT_SIGNALS:
            return "error", "%s (%s)" % (_LIMIT_SIGNALS[sig], progress)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "signal %d" % sig
        return "failed", "died from %s (%s)" % (name, progress)
    return "failed", (
        "exited with code %s without reporting a result (%s): early exit, os._exit or a "
        "closed result channel" % (returncode, progress))


def _child_env(workdir):
    # Built from scratch, never copied from os.environ: API keys and tokens in the
    # labeler's environment must not reach the candidate.
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": workdir,
        "TMPDIR": workdir,
    }
    if os.name == "nt":  # pragma: no cover - Python cannot start without it
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
    return env


def _kill_tree(proc, exited, uid, isolation):
    """Kill every process of the run; C0 must still be unreaped (alive or zombie)."""
    if _POSIX:
        # C0 led a new session, so its pid is the process group id; while C0 is
        # unreaped the id cannot be reused by an unrelated process group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if uid is not None and "pidns" not in isolation and "unprivileged-uid" in isolation:
            # Daemons that left the process group: nobody else uses the uid.
            _sweep_uid(uid)
            if "private-tmp" not in isolation:
                _remove_uid_files(uid)
    elif not exited:  # pragma: no cover - Windows
        proc.kill()
    proc.wait()


def _proc_uid(pid):
    """Real uid of a live process, None for a zombie (already dead, nothing to kill)."""
    # Not the owner of /proc/PID: that turns to root when a process stops being
    # dumpable, which setuid() does.
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("State:") and line.split()[1] in ("Z", "X"):
                return None
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def _sweep_uid(uid, rounds=100):
    """SIGKILL every process owned by ``uid`` (a uid only this run uses)."""
    if not os.path.isdir("/proc"):  # pragma: no cover - macOS run as root
        kill = shutil.which("kill")
        if kill:
            subprocess.run([kill, "-9", "-1"], user=uid, group=uid, extra_groups=[], env={},
                           cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return
    for _ in range(rounds):
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if _proc_uid(name) != uid:
                    continue
                # Through a pidfd the check and the kill name the same process even
                # if the pid is recycled in between.
                pidfd = os.pidfd_open(int(name)) if hasattr(os, "pidfd_open") else None
                try:
                    if _proc_uid(name) != uid:
                        continue
                    if pidfd is not None:
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                    else:
                        os.kill(int(name), signal.SIGKILL)
                    found = True
                finally:
                    if pidfd is not None:
                        os.close(pidfd)
            except OSError:
                pass
        if not found:
            return
        time.sleep(0.001)


def _remove_uid_files(uid, dirs=("/tmp", "/var/tmp", "/dev/shm", "/run/lock")):
    """Delete what ``uid`` left in the world-writable directories (no mount namespace)."""
    for d in dirs:
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def _exited(proc, pidfd):
    """Has C0 exited? Never reaps it (see :func:`_kill_tree`)."""
    if pidfd is not None:
        return False  # the selector reports exit through the pidfd
    if hasattr(os, "waitid"):
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None
    return proc.poll() is not None  # pragma: no cover - macOS has no waitid


def _default_hidden():
    """Where a labeler's secrets and answers usually are: its home, cwd and data home."""
    paths = [os.path.expanduser("~"), os.getcwd(), os.path.expanduser("~/skcomplexity_data")]
    if os.environ.get("SKCOMPLEXITY_DATA"):
        paths.append(os.environ["SKCOMPLEXITY_DATA"])
    return paths


def run_tests(code, tests, *, setup="", timeout=10.0, memory_limit_mb=512, max_processes=64,
              disk_limit_mb=64, output_limit=65536, namespaces=True, hide_paths=None,
              python=None):
    """Run untrusted ``code`` against assert ``tests`` in a sandboxed child process.

    Parameters
    ----------
    code : str
        The candidate program (typically LLM-written function definitions).
    tests : sequence of str
        Test statements, usually ``assert`` lines; each is run separately, in order,
        in the namespace of ``code``.
    setup : str, default=""
        Code run before ``code`` (MBPP's ``test_setup_code``).
    timeout : float, default=10.0
        Wall-clock limit in seconds for the whole run, interpreter start included.
        The CPU-time limit is set one second above it.
    memory_limit_mb : int or None, default=512
        Address-space limit (``RLIMIT_AS``) of each sandbox process; None for none.
    max_processes : int or None, default=64
        Processes the run may create (``RLIMIT_NPROC``, counted against a uid of
        its own when started as root). None for no limit.
    disk_limit_mb : int, default=64
        Largest file (``RLIMIT_FSIZE``) and size of each private tmpfs.
    output_limit : int, default=65536
        Bytes of stdout and of stderr kept; the rest is read and dropped.
    namespaces : bool, default=True
        Try Linux namespaces. False forces the degraded path used on other systems
        (useful to test it).
    hide_paths : sequence of str, optional
        Directories covered by an empty tmpfs inside the mount namespace, so that the
        program cannot read them (``.env`` files with API keys, datasets with the
        expected answers). Default: the labeler's home and working directory and the
        data home (``$SKCOMPLEXITY_DATA``, ``~/skcomplexity_data``). ``/`` and
        directories holding the interpreter are never hidden. Needs a mount namespace.
    python : str, optional
        Interpreter to run; defaults to ``sys.executable``.

    Returns
    -------
    result : TestResult
        ``result.passed`` is True only if every test ran in the harness and held.

    Examples
    --------
    >>> from skcomplexity.sandbox import run_tests
    >>> res = run_tests("def add(a, b):\\n    return a + b", ["assert add(1, 2) == 3"])
    >>> res.passed, res.status, res.n_tests_passed
    (True, 'passed', 1)
    >>> res = run_tests("def add(a, b):\\n    return a - b",
    ...                 ["assert add(1, 2) == 3", "assert add(0, 0) == 0"])
    >>> res.status, res.reason
    ('failed', 'test 1/2 failed: assert add(1, 2) == 3')
    >>> run_tests("while True: pass", [], timeout=1).status
    'timeout'
    """
    if isinstance(tests, str):
        raise TypeError("tests must be a sequence of str, not a single str")
    tests = [str(t) for t in tests]
    if not isinstance(code, str) or not isinstance(setup, str):
        raise TypeError("code and setup must be str")
    if not timeout or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds, got %r" % (timeout,))
    if not _POSIX:  # pragma: no cover
        raise NotImplementedError(
            "skcomplexity.sandbox needs a POSIX system (Linux for full isolation, macOS "
            "degraded); on Windows run the labeler under WSL")
    n = len(tests)
    tokens = [secrets.token_hex(16) for _ in range(n + 1)]
    uid = None
    if os.geteuid() == 0:
        uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
    start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="skcomplexity-sandbox-")
    cfg = {
        "code": code, "setup": setup, "tests": tests, "tokens": tokens, "uid": uid,
        "workdir": workdir, "namespaces": bool(namespaces),
        "memory_limit_mb": memory_limit_mb, "cpu_limit_s": int(math.ceil(timeout)) + 1,
        "disk_limit_mb": disk_limit_mb, "max_processes": max_processes,
        "hide": [str(p) for p in (_default_hidden() if hide_paths is None else hide_paths)],
    }
    payload = memoryview(json.dumps(cfg).encode("utf-8"))
    del cfg
    result_r, result_w = os.pipe()
    proc = None
    try:
        try:
            proc = subprocess.Popen(
                [python or sys.executable, "-I", "-S", "-B", _HARNESS, str(result_w)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(result_w,), close_fds=True, start_new_session=True,
                env=_child_env(workdir), cwd=workdir)
        except OSError as exc:  # no interpreter, no fds or processes left: say so, don't raise
            return TestResult(passed=False, status="error", n_tests=n,
                              reason="could not start the sandbox: %s" % exc,
                              duration=time.monotonic() - start)
        os.close(result_w)
        result_w = None
        out, err = _Capped(output_limit), _Capped(output_limit)
        results = _Results(tokens)
        timed_out, exited = _watch(proc, payload, out, err, results, result_r, start + timeout)
        _kill_tree(proc, exited, uid, results.isolation or ())
        _drain(proc, out, err, results, result_r)
        returncode = proc.returncode
    finally:
        if proc is not None and proc.returncode is None:  # interrupted: never leak the tree
            _kill_tree(proc, False, uid, ())
        for fd in (result_r, result_w):
            if fd is not None:
                os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
    stdout, stderr = out.text(), err.text()
    status, reason = _judge(results, n, timed_out, returncode, timeout, memory_limit_mb, stderr)
    if results.forged and status != "passed":
        reason += " [%d invalid records on the result channel]" % results.forged
    return TestResult(
        passed=status == "passed", status=status, reason=reason, n_tests=n,
        n_tests_passed=results.n_ok, duration=time.monotonic() - start, returncode=returncode,
        stdout=stdout, stderr=stderr, truncated=bool(out.dropped or err.dropped),
        isolation=results.isolation or ())


def _watch(proc, payload, out, err, results, result_fd, deadline):
    """Pump the pipes until the result is final, C0 exits or the deadline passes.

    Returns ``(timed_out, exited)``.
    """
    sel = selectors.DefaultSelector()
    pidfd = None
    try:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE, None)
        sel.register(result_fd, selectors.EVENT_READ, results)
        if hasattr(os, "pidfd_open"):
            try:
                pidfd = os.pidfd_open(proc.pid)
                sel.register(pidfd, selectors.EVENT_READ, "exit")
            except OSError:
                pidfd = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True, False
            poll = remaining if pidfd is not None else min(remaining, 0.01)
            for key, _ in sel.select(poll):
                if key.data == "exit":
                    return False, True
                if key.data is None:
                    try:
                        sent = os.write(key.fd, payload)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:  # harness died before reading everything
                        sent = len(payload)
                    payload = payload[sent:]
                    if not payload:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                key.data.add(data)
                if results.done:
                    return False, False
            if _exited(proc, pidfd):
                return False, True
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        if proc.stdin and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except OSError:
                pass



def _drain(proc, out, err, results, result_fd, grace=0.5):
    """Read what the dead run left in the pipes (bounded: a survivor may hold them open)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    sel.register(result_fd, selectors.EVENT_READ, results)
    deadline = time.monotonic() + grace
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in sel.select(remaining):
                data = os.read(key.fd, 65536)
                if data:
                    key.data.add(data)
                else:
                    sel.unregister(key.fileobj)
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
