"""A persistent completion cache: never pay twice for the same answer of a model.

Labeling a dataset means thousands of model calls, each costing money (a remote API) or
seconds of CPU (a local model). :class:`CompletionCache` stores every completion in a SQLite
file the moment it arrives, under a key that says everything that fixes the answer: the
backend's identity and :meth:`~skcomplexity.labeling.backends.Backend.cache_params`, the
messages, the temperature, ``max_tokens`` and the seed. A re-run, or a resume after the
process was killed, asks the model only for what is not stored yet.

Concurrency: the file is opened in WAL mode, so readers never block the writer and one writer
at a time appends; each process and each thread gets its own connection (SQLite connections
must not cross threads, and a connection inherited through ``fork`` must not be reused), and
a busy timeout makes concurrent writers wait for the lock instead of failing. Workers on one
machine (joblib's loky processes, a local dask cluster) can therefore share one file by path;
the cache pickles as its path. SQLite over a network file system is not safe: give workers on
other machines a local file each, or label from one machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

__all__ = ["CompletionCache", "cache_key"]

# Bumped when the key's recipe changes, so that old entries are never read under new rules.
_KEY_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    finish_reason TEXT,
    created REAL NOT NULL
)
"""


def cache_key(backend_name, cache_params, messages, *, temperature, max_tokens, seed):
    """Hash of everything that determines a completion.

    Parameters
    ----------
    backend_name : str
        The backend's :attr:`~skcomplexity.labeling.backends.Backend.name`.
    cache_params : dict
        The backend's :meth:`~skcomplexity.labeling.backends.Backend.cache_params`
        (JSON-serialisable).
    messages : list of dict
        The chat messages sent.
    temperature : float
    max_tokens : int
    seed : int or None

    Returns
    -------
    key : str
        A SHA-256 hex digest.

    Examples
    --------
    >>> messages = [{"role": "user", "content": "Add two numbers."}]
    >>> key = cache_key("llama:m", {"model": "m"}, messages, temperature=0.8, max_tokens=64,
    ...                 seed=0)
    >>> len(key)
    64
    >>> key == cache_key("llama:m", {"model": "m"}, messages, temperature=0.8, max_tokens=64,
    ...                  seed=1)
    False
    """
    # sort_keys and fixed separators: the same call always gives the same bytes; float() and
    # int() so that 1 and 1.0 (numpy scalars too) do not give two keys for one call.
    payload = {
        "version": _KEY_VERSION,
        "backend": str(backend_name),
        "params": cache_params,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "temperature": float(temperature),
        "max_tokens": int(max_tokens),
        "seed": None if seed is None else int(seed),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CompletionCache:
    """Completions stored in a SQLite file, keyed by :func:`cache_key`.

    Every :meth:`put` is committed at once, so nothing received is lost if the process is
    killed, even with ``kill -9``: SQLite's write-ahead log survives the death of the
    process (only a crash of the operating system could drop the last commits, under
    ``synchronous=NORMAL``). Safe to share between threads and processes of one machine.

    Parameters
    ----------
    path : str or path-like
        The SQLite file; created with its parent folder if missing.
    timeout : float, default=60.0
        Seconds a writer waits for another one to release the lock before failing.

    Examples
    --------
    >>> import tempfile, os
    >>> from skcomplexity.labeling.backends import Completion
    >>> from skcomplexity.labeling import CompletionCache, cache_key
    >>> path = os.path.join(tempfile.mkdtemp(), "completions.sqlite")
    >>> cache = CompletionCache(path)
    >>> key = cache_key("llama:m", {}, [{"role": "user", "content": "Hi"}], temperature=0.8,
    ...                 max_tokens=8, seed=0)
    >>> cache.get(key) is None
    True
    >>> cache.put(key, Completion("Hello!", prompt_tokens=3, completion_tokens=2, cost=0.0),
    ...           backend="llama:m")
    >>> cache.get(key)
    Completion(text='Hello!', prompt_tokens=3, completion_tokens=2, cost=0.0, finish_reason=None)
    >>> len(CompletionCache(path)), key in cache
    (1, True)
    """

    def __init__(self, path, *, timeout=60.0):
        self.path = str(Path(path))
        self.timeout = timeout
        self._local = threading.local()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._connect()  # fail here, not in a worker, if the file cannot be opened

    def _connect(self):
        """This thread's connection, opened on first use (and again after a fork)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=self.timeout,
                                         isolation_level=None)  # autocommit: each put commits
            connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL under WAL: a commit survives the process being killed; FULL's extra
            # fsync per commit would only guard against power loss.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def get(self, key):
        """The stored completion for ``key``, or None.

        Returns
        -------
        completion : Completion or None
        """
        from .backends import Completion

        row = self._connect().execute(
            "SELECT text, prompt_tokens, completion_tokens, cost, finish_reason "
            "FROM completions WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return Completion(text=row[0], prompt_tokens=row[1], completion_tokens=row[2],
                          cost=row[3], finish_reason=row[4])

    def put(self, key, completion, *, backend=""):
        """Store ``completion`` under ``key`` and commit.

        Parameters
        ----------
        key : str
        completion : Completion
        backend : str, default=""
            The backend's name, stored for inspection (it is already part of the key).
        """
        # OR IGNORE: two workers that raced on one key keep the first answer, which a reader
        # may already have used.
        self._connect().execute(
            "INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, backend, completion.text, int(completion.prompt_tokens),
             int(completion.completion_tokens), float(completion.cost),
             completion.finish_reason, time.time()))

    def __contains__(self, key):
        row = self._connect().execute(
            "SELECT 1 FROM completions WHERE key = ?", (key,)).fetchone()
        return row is not None

    def __len__(self):
        return self._connect().execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self):
        """Close this thread's connection (others close when their thread or process ends)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            connection.close()
        self._local = threading.local()

    def __getstate__(self):
        # Connections cannot be pickled; a copy opens its own on first use.
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __repr__(self):
        return f"CompletionCache({self.path!r})"
