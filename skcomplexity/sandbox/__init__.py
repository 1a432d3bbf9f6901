"""Run untrusted, LLM-written Python against assert tests: :func:`run_tests`.

Every call starts a fresh child interpreter (``python -I -S -B``) in a new session,
with a minimal environment and its own temporary working directory, and judges the
run from a private result channel, never from the program's output.

This is defence in depth around a normal process, not a virtual machine: a kernel
bug or a hole in the layers below lets code out. Run labelling jobs on a machine
(or VM/container) you are prepared to lose, without credentials you cannot rotate.

What holds on every POSIX system
--------------------------------
* One child process per call, in a new session (``setsid``) and process group; the
  whole group is sent ``SIGKILL`` when the run ends, fails or times out, and the
  child gets ``SIGKILL`` if the labeler (the thread that called :func:`run_tests`)
  dies (Linux ``PR_SET_PDEATHSIG``). Safe to call from many threads and processes
  at once: every call has its own pipes, directory, tokens and uid.
* A fresh temporary working directory (also ``HOME`` and ``TMPDIR``), removed after.
* An environment built from scratch (``PATH``, ``LANG``, ``LC_ALL``, ``HOME``,
  ``TMPDIR``): ``OPENAI_API_KEY`` and every other variable of the labeler never
  reach the child. ``-I -S`` keeps ``PYTHON*`` variables, the user site, ``.pth``
  hooks and site-packages out; the standard library works (``exit``/``quit`` are
  provided as ``site`` would). Hash randomisation stays on, as in a plain run.
* stdout and stderr are read as they come and capped (``output_limit``), so a
  flood neither blocks the child nor fills the labeler's memory.
* The wall-clock ``timeout`` covers the whole run.
* ``passed`` needs a per-test token, drawn at random for each run and sent to the
  harness over stdin (which the program never sees), written on a pipe that the
  parent created for this run, in order, for every test, followed by a final token.
  ``exit(0)``, ``os._exit(0)``, ``sys.exit()``, dying early, closing or scribbling on
  file descriptors and printing success-looking text therefore give ``failed``.
* Resource limits (``setrlimit``): address space (``memory_limit_mb``), CPU time
  (``timeout`` + 1 s, then ``SIGKILL`` a second later), file size
  (``disk_limit_mb``), processes (``max_processes``; only where the user's other
  processes can be counted, or the run has a uid of its own), no core files.

Linux, additionally
-------------------
Each layer is applied when the kernel allows it, and ``TestResult.isolation`` lists
what was actually applied to that run (check it, don't assume it):

* ``netns``, ``pidns``, ``mountns``, ``ipcns``, ``utsns``: new namespaces, entered with
  ``unshare(2)``; directly when the labeler runs as root, through a user namespace
  (``userns``, own uid mapped to itself) otherwise. In the network namespace only a
  downed loopback exists: no connection to the host, ``127.0.0.1`` included, or to
  the internet. In the PID namespace an init process of ours reaps orphans and, when
  the harness ends, exits, whereupon the kernel kills every process left in it:
  double-forked daemons that called ``setsid()`` included. The program sees its own
  ``/proc`` (``private-proc``) and cannot see or signal the labeler. Under a user
  namespace the capabilities it grants are dropped again (``no-capabilities``).
* ``readonly-fs``: every mount is remounted read-only inside the mount namespace;
  ``private-tmp``: ``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock`` are fresh,
  size-limited tmpfs that vanish with the run; ``tmpfs-workdir``: the working
  directory itself is such a tmpfs, so nothing is written to the host's disk;
  ``hidden-paths``: the labeler's home and working directory and the data home (or
  ``hide_paths``) look empty, so ``.env`` files and the expected answers stay out
  of reach. Other world-readable files remain readable.
* ``unprivileged-uid`` (labeler running as root): the program runs under a random
  uid of its own (no capabilities, no supplementary groups, ``no-new-privs``). It
  owns no file, cannot signal other users' processes (``kill -9 -1`` only reaches
  itself), and ``RLIMIT_NPROC`` counts only its processes, which is what bounds a
  fork bomb. ``python-bind``: when the interpreter lives in a directory that uid
  cannot enter (``/root/.pyenv``), a tmpfs hides that directory and only the
  interpreter's directories are bind-mounted back, read-only.
* Without a PID namespace but as root, leftover processes of the run's uid are
  killed by a ``/proc`` sweep and its files in the shared tmp directories removed;
  without a mount namespace, an unreachable stdlib is imported through a directory
  fd opened before dropping root (``stdlib-via-fd``).

Degraded cases
--------------
* Linux without namespaces and not root (e.g. user namespaces disabled): rlimits,
  environment scrub, session kill only. ``RLIMIT_NPROC`` counts all of the user's
  processes (it is set to their current number plus ``max_processes``); a process
  that calls ``setsid()`` and double-forks can outlive the run; the program can
  write wherever the user can and reach the network.
* macOS: no namespaces; rlimits are set but the kernel does not enforce
  ``RLIMIT_AS``; no parent-death signal. Same limits as the previous item.
* Windows: not supported (no ``fork``, no rlimits, no fd passing to the harness);
  :func:`run_tests` raises :class:`NotImplementedError`. Use WSL.

What no layer gives
-------------------
The harness runs the tests in the same interpreter as the program, so a program
written to defeat *this* harness (walking the interpreter's frames or objects to
find the current run's tokens and writing them to the result pipe) can forge a
pass. The tokens only defeat generic tricks (early exit, printed markers, guessed
records), not an adversary that studies this module. Objects that compare equal to
everything (``__eq__`` returning True) pass ``assert f(x) == y`` exactly as they would
in a plain run. Memory is bounded per process, not per run (``max_processes`` times
``memory_limit_mb`` at worst), and tmpfs pages count against the machine's memory.

Examples
--------
>>> from skcomplexity.sandbox import run_tests
>>> res = run_tests("def double(x):\\n    return 2 * x", ["assert double(2) == 4"])
>>> res.passed, res.status, res.reason
(True, 'passed', 'all 1 tests passed')
>>> run_tests("import os\\nos._exit(0)", ["assert double(2) == 4"]).passed
False
"""

from ._core import TestResult, run_tests

__all__ = ["run_tests", "TestResult"]
