"""Child side of :mod:`skcomplexity.sandbox`; run as a script, never imported.

The parent starts ``python -I -S -B _harness.py RESULT_FD`` and writes one JSON
document (code, setup, tests, limits, per-test tokens) to its stdin. This file
must only use the standard library: under ``-I -S`` neither site-packages nor
the package itself is importable, which is the point.

Process layout on Linux with a PID namespace (root or user namespaces)::

    C0  session leader started by the parent; unshares the namespaces, forks,
        relays the exit code of C1.
    C1  PID 1 of the new namespace ("init"): mounts a private /proc, tmpfs
        work directory and read-only view of the file system, forks C2, reaps
        orphans, and exits when C2 does, which makes the kernel SIGKILL every
        process left in the namespace (daemons included).
    C2  drops privileges, sets resource limits, runs setup, code and tests.

Without a PID namespace, C0 does C2's job itself.
"""

import _sitebuiltins
import builtins
import json
import os
import signal
import stat
import sys
import types

try:  # POSIX only; on other platforms the limits are simply not applied.
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

try:
    import ctypes
except ImportError:  # pragma: no cover - interpreters built without ctypes
    ctypes = None

# Linux constants (<sched.h>, <sys/mount.h>, <sys/prctl.h>); Python 3.11 has no
# os.unshare, so the calls go through libc.
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38

# Per-mount flags of /proc/self/mountinfo that must be kept on a remount: in a
# user namespace the kernel refuses to clear them ("locked" flags).
_MOUNT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
# World-writable places a program could use to leave files behind.
_SHARED_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
# Records are written with one os.write each; below PIPE_BUF they are atomic.
_MAX_RECORD = 3500


def _libc():
    if ctypes is None or not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - static builds
        return None


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _set_pdeathsig(libc):
    # Die with the parent: the kernel delivers SIGKILL when the process that
    # forked us exits, so nothing outlives a crashed or killed labeler.
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _count_user_processes(uid):
    # RLIMIT_NPROC counts every process of the real user, not just ours.
    n = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit():
            continue
        try:
            # The Uid line, not the owner of /proc/PID (root for non-dumpable processes).
            with open("/proc/%s/status" % name) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        n += int(line.split()[1]) == uid
                        break
        except (OSError, ValueError):
            pass
    return n


def _unshare(libc, applied):
    """Enter new namespaces, one at a time so that a refused one costs only itself."""
    if os.geteuid() != 0:
        uid, gid = os.getuid(), os.getgid()
        try:
            _check(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
        except OSError:
            return
        # Map our own ids to themselves: enough for the namespace to own
        # mount/PID/network namespaces, without pretending to be root.
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write("%d %d 1" % (uid, uid))
        with open("/proc/self/gid_map", "w") as f:
            f.write("%d %d 1" % (gid, gid))
        applied.append("userns")
    for flag, name in (
        (CLONE_NEWNET, "netns"),
        (CLONE_NEWIPC, "ipcns"),
        (CLONE_NEWUTS, "utsns"),
        (CLONE_NEWNS, "mountns"),
        (CLONE_NEWPID, "pidns"),
    ):
        if libc.unshare(flag) == 0:
            applied.append(name)


def _setup_filesystem(libc, cfg, applied, mount_proc):
    """Read-only view of every mount, private tmpfs for shared tmp dirs and the work dir."""
    # Without private propagation our mounts would leak back to the host.
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    with open("/proc/self/mountinfo") as f:
        mounts = []
        for line in f:
            fields = line.split()
            mounts.append((fields[4], fields[5]))
    ro_root = False
    for target, options in mounts:
        if target == "/proc" or target.startswith("/proc/") or "\\" in target:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in options.split(","):
            flags |= _MOUNT_FLAGS.get(opt, 0)
        if libc.mount(None, target.encode(), None, flags, None) == 0 and target == "/":
            ro_root = True
    if ro_root:
        applied.append("readonly-fs")
    if _hide(libc, cfg["hide"], needed=_python_dirs() + [cfg["workdir"], *_SHARED_TMP_DIRS]):
        applied.append("hidden-paths")
    if cfg["uid"] is not None and _grant_python(libc):
        applied.append("python-bind")
    uid = cfg["uid"]
    owner = "" if uid is None else ",uid=%d,gid=%d" % (uid, uid)
    size = "size=%dm,nr_inodes=%d" % (cfg["disk_limit_mb"], 1 << 14)
    private = 0
    for path in _SHARED_TMP_DIRS:
        if os.path.isdir(path) and not os.path.islink(path):
            opts = "%s,mode=1777" % size
            flags = MS_NOSUID | MS_NODEV
            if libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, opts.encode()) == 0:
                private += 1
    if private:
        applied.append("private-tmp")
    workdir = cfg["workdir"]
    os.makedirs(workdir, exist_ok=True)
    opts = "%s,mode=0700%s" % (size, owner)
    _check(
        libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts.encode()),
        "tmpfs on the work directory",
    )
    applied.append("tmpfs-workdir")
    if mount_proc:
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        if libc.mount(b"proc", b"/proc", b"proc", flags, None) == 0:
            applied.append("private-proc")


def _hide(libc, paths, needed):
    """Cover each directory of ``paths`` with an empty read-only tmpfs; return how many.

    Directories holding something the run needs (the interpreter, the work
    directory, the tmp dirs) are left alone, as is ``/``.
    """
    hidden = 0
    for path in paths:
        path = os.path.realpath(path)
        if path == "/" or not os.path.isdir(path):
            continue
        if any(p == path or p.startswith(path.rstrip("/") + "/") for p in needed):
            continue
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY
        if libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, b"size=4k,mode=0555") == 0:
            hidden += 1
    return hidden


def _try_setup_filesystem(libc, cfg, applied, mount_proc):
    # A mount namespace whose mounts are refused (some seccomp profiles) degrades
    # to the host's file system; only the layers that worked end up in `applied`.
    try:
        _setup_filesystem(libc, cfg, applied, mount_proc)
    except OSError as exc:
        applied.append("mount-failed:%s" % exc.strerror)


def _python_dirs():
    """Directories the candidate's uid must reach: the stdlib and the interpreter."""
    return sorted({os.path.dirname(os.__file__), os.path.dirname(os.path.realpath(sys.executable))})


def _closed_ancestor(path):
    """The first ancestor of ``path`` that other users may not traverse, or None."""
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        if not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ancestor
    return None


def _grant_python(libc):
    """Make the interpreter reachable for the unprivileged uid when it lives in, e.g., /root.

    A tmpfs replaces the closed directory (hiding the rest of it, root's home for
    instance) and the interpreter's directories are bind-mounted back inside it.
    """
    targets = {}
    for path in _python_dirs():
        ancestor = _closed_ancestor(path)
        if ancestor is not None:
            targets.setdefault(ancestor, []).append(path)
    for ancestor, paths in targets.items():
        fds = [os.open(p, os.O_RDONLY | os.O_DIRECTORY) for p in paths]
        _check(libc.mount(b"tmpfs", ancestor.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                          b"size=1m,mode=0755"), "tmpfs on " + ancestor)
        for path, fd in zip(paths, fds):
            os.makedirs(path, mode=0o755, exist_ok=True)
            source = ("/proc/self/fd/%d" % fd).encode()
            _check(libc.mount(source, path.encode(), None, MS_BIND | MS_REC, None), "bind " + path)
            os.close(fd)
        flags = MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        libc.mount(None, ancestor.encode(), None, flags, None)
    return bool(targets)


def _stdlib_through_fd():
    """Keep the stdlib importable for a uid that cannot traverse to it (no mount namespace).

    A directory fd opened now, as root, still works after setuid(): a path through
    the /proc/self/fd magic link skips the permission checks of the ancestors.
    """
    stdlib = os.path.dirname(os.__file__)
    alias = "/proc/self/fd/%d" % os.open(stdlib, os.O_RDONLY | os.O_DIRECTORY)

    def moved(paths):
        return [alias + p[len(stdlib):] if p == stdlib or p.startswith(stdlib + "/") else p
                for p in paths]

    sys.path[:] = moved(sys.path)
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if isinstance(path, list):  # packages already imported (collections, encodings)
            path[:] = moved(path)
    sys.path_importer_cache.clear()


def _drop_capabilities(libc):
    """Clear the effective, permitted and inheritable capability sets (capset(2))."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # two {effective, permitted, inheritable} triples, all 0
    return libc.capset(header, data) == 0


def _drop_privileges(libc, cfg, applied):
    uid = cfg["uid"]
    if uid is not None and os.geteuid() == 0:
        if "python-bind" not in applied and _closed_ancestor(os.path.dirname(os.__file__)):
            _stdlib_through_fd()
            applied.append("stdlib-via-fd")
        # A uid of our own: nothing else on the machine runs as it, so it owns
        # no files, cannot signal anyone else, and RLIMIT_NPROC counts only
        # this run's processes.
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        applied.append("unprivileged-uid")
        # Changing credentials clears the parent-death signal.
        _set_pdeathsig(libc)
    elif "userns" in applied and _drop_capabilities(libc):
        # unshare(CLONE_NEWUSER) granted every capability inside the new user
        # namespace; the candidate needs none of them.
        applied.append("no-capabilities")
    if libc is not None and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        applied.append("no-new-privs")


def _set_limits(cfg, applied, nproc_base):
    if resource is None:
        return
    mib = 1024 * 1024
    limits = [("RLIMIT_CORE", 0)]
    if cfg["memory_limit_mb"]:
        limits.append(("RLIMIT_AS", cfg["memory_limit_mb"] * mib))
    if cfg["cpu_limit_s"]:
        limits.append(("RLIMIT_CPU", cfg["cpu_limit_s"]))
    if cfg["disk_limit_mb"]:
        limits.append(("RLIMIT_FSIZE", cfg["disk_limit_mb"] * mib))
    if cfg["max_processes"] and nproc_base is not None:
        limits.append(("RLIMIT_NPROC", nproc_base + cfg["max_processes"]))
    done = []
    for name, value in limits:
        which = getattr(resource, name, None)
        if which is None:
            continue
        soft, hard = value, value
        if name == "RLIMIT_CPU":
            hard = value + 1  # SIGXCPU at the soft limit, SIGKILL one second later
        try:
            cur_soft, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, cur_hard), min(hard, cur_hard)
            resource.setrlimit(which, (soft, hard))
            done.append(name[len("RLIMIT_"):].lower())
        except (OSError, ValueError):
            pass
    if done:
        applied.append("rlimit:" + "+".join(done))


def _wait_code(pid):
    """Wait for ``pid`` (reaping any other child meanwhile) and return a shell-style code."""
    while True:
        try:
            got, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 1
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        if got == pid:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.WEXITSTATUS(status)


def _describe(exc):
    # The exception comes from untrusted code: its __str__ may raise or return
    # megabytes, so guard and truncate.
    try:
        name = type(exc).__name__
    except BaseException:
        name = "Exception"
    try:
        msg = str(exc)
    except BaseException:
        msg = "<unprintable>"
    if not isinstance(name, str):
        name = "Exception"
    if not isinstance(msg, str):
        msg = "<unprintable>"
    line = None
    try:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<candidate>":
                line = tb.tb_lineno
            tb = tb.tb_next
    except BaseException:
        line = None
    return name[:200], msg[:1000], line


def run(cfg, result_fd, applied):
    """Run setup, code and tests; report through ``result_fd`` only."""
    # Everything the reporting path needs is bound to locals now, before any
    # untrusted code exists: rebinding os.write, json.dumps or sys.modules
    # from the candidate then changes nothing here.
    write, _exit, getpid, dumps, exec_ = os.write, os._exit, os.getpid, json.dumps, exec
    flush_targets = (sys.stdout, sys.stderr)
    me = getpid()
    tokens = cfg.pop("tokens")
    sources = [("setup", None, cfg.pop("setup")), ("code", None, cfg.pop("code"))]
    sources += [("test", i, t) for i, t in enumerate(cfg.pop("tests"))]

    def emit(record):
        # A fork of the candidate continues through this code too; only the
        # harness process itself may speak.
        if getpid() != me:
            return
        data = (dumps(record) + "\n").encode("utf-8", "replace")
        if len(data) > _MAX_RECORD:  # \uXXXX escapes can make a short message long
            for key in ("msg", "src"):
                if isinstance(record.get(key), str):
                    record[key] = record[key][:100]
            data = (dumps(record) + "\n").encode("utf-8", "replace")
        try:
            write(result_fd, data)
        except OSError:
            pass

    def flush():
        for stream in flush_targets:
            try:
                stream.flush()
            except BaseException:
                pass

    def finish(code):
        flush()
        _exit(code)

    emit({"k": "iso", "applied": applied})
    compiled = []
    for stage, index, src in sources:
        filename = "<candidate>" if stage == "code" else "<%s>" % stage
        try:
            compiled.append((stage, index, src, compile(src, filename, "exec", dont_inherit=True)))
        except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
            name, msg, _ = _describe(exc)
            line = getattr(exc, "lineno", None)
            msg = getattr(exc, "msg", None) or msg
            emit({"k": "error", "stage": stage, "i": index, "etype": name, "msg": msg,
                  "line": line})
            finish(2)

    # The candidate gets a module of its own as __main__, as in a plain run;
    # `import __main__` must not hand it the harness's globals.
    # -S skipped site, which is what defines exit() and quit(); programs use them.
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = module
    sys.argv = [""]
    namespace = module.__dict__
    del cfg, sources, applied

    for stage, index, src, code in compiled:
        try:
            exec_(code, namespace)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included
            if getpid() != me:
                _exit(1)
            name, msg, line = _describe(exc)
            flush()
            emit({"k": "fail", "stage": stage, "i": index, "etype": name, "msg": msg,
                  "line": line, "src": src[:500] if stage == "test" else None})
            _exit(1)
        if getpid() != me:
            continue
        if stage == "test":
            emit({"k": "ok", "i": index, "t": tokens[index]})
    if getpid() != me:
        _exit(0)
    flush()
    emit({"k": "done", "t": tokens[-1]})
    _exit(0)


def main():
    result_fd = int(sys.argv[1])
    cfg = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    # The candidate reads nothing from us: stdin becomes /dev/null.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    applied = ["process", "session", "clean-env", "isolated-python"]
    libc = _libc()
    _set_pdeathsig(libc)
    nproc_base = 0
    if cfg["uid"] is None:
        # Without a uid of our own, RLIMIT_NPROC must leave room for the user's other
        # processes; where they cannot be counted, it is not set at all.
        nproc_base = None
        if sys.platform.startswith("linux"):
            nproc_base = _count_user_processes(os.getuid())
    if cfg["namespaces"] and libc is not None:
        _unshare(libc, applied)
    if "pidns" in applied:
        pid = os.fork()
        if pid:
            os._exit(_wait_code(pid))  # C0: relay
        # C1: init of the namespace.
        _set_pdeathsig(libc)
        if "mountns" in applied:
            _try_setup_filesystem(libc, cfg, applied, mount_proc=True)
        pid = os.fork()
        if pid:
            os._exit(_wait_code(pid))
        # C2: falls through to the common path.
    elif "mountns" in applied:
        _try_setup_filesystem(libc, cfg, applied, mount_proc=False)
    if "tmpfs-workdir" not in applied and cfg["uid"] is not None and hasattr(os, "chown"):
        try:
            os.chown(cfg["workdir"], cfg["uid"], cfg["uid"])
        except OSError:  # read-only after a half-failed mount setup: cwd stays read-only
            pass
    os.chdir(cfg["workdir"])
    _drop_privileges(libc, cfg, applied)
    _set_limits(cfg, applied, nproc_base)
    run(cfg, result_fd, applied)


if __name__ == "__main__":
    main()
