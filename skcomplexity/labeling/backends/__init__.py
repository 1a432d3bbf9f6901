"""LLM backends: one small interface, an OpenAI-compatible client and llama.cpp.

Every backend answers chat messages with a :class:`Completion` through
:meth:`Backend.generate`, and says with :meth:`Backend.cache_params` what else fixes its
output. :func:`make_backend` builds one from a short spec string; the optional dependencies
(``openai``, ``llama-cpp-python``) are imported only when a backend first needs them.
"""

from __future__ import annotations

import re

from ._base import Backend, BackendError, BackendTimeoutError, Completion
from ._llama_cpp import SHORT_NAMES, LlamaCppBackend, default_cache_dir
from ._openai import OpenAIBackend

__all__ = [
    "Backend",
    "BackendError",
    "BackendTimeoutError",
    "Completion",
    "LlamaCppBackend",
    "OpenAIBackend",
    "SHORT_NAMES",
    "default_cache_dir",
    "make_backend",
]

# "MODEL@URL": the URL starts with a scheme, so a model id may itself contain "@".
_OPENAI_SPEC = re.compile(r"^(?P<model>.+?)@(?P<url>https?://\S+)$")


def make_backend(spec, **kwargs) -> Backend:
    """Build a backend from a spec string; a :class:`Backend` is returned as is.

    Parameters
    ----------
    spec : str or Backend
        ``"llama:NAME"`` with a short name (``smollm2-135m``, ``gemma3-270m``) or a GGUF
        path; ``"openai:MODEL"`` for OpenAI; ``"openai:MODEL@BASE_URL"`` for any
        compatible server. A backend's :attr:`~Backend.name` is a valid spec.
    **kwargs
        Passed to the backend's constructor, e.g. ``price_per_1k_prompt``,
        ``price_per_1k_completion`` or ``price_per_1k``, ``timeout``, ``n_ctx``.

    Returns
    -------
    backend : Backend

    Examples
    --------
    >>> from skcomplexity.labeling.backends import make_backend
    >>> make_backend("llama:smollm2-135m", n_ctx=1024)
    LlamaCppBackend('llama:smollm2-135m')
    >>> backend = make_backend("openai:gpt-4o@http://127.0.0.1:8000/v1", price_per_1k=0.01)
    >>> backend.model, backend.base_url
    ('gpt-4o', 'http://127.0.0.1:8000/v1')
    >>> make_backend(backend.name).name == backend.name
    True
    >>> make_backend("hf:gpt2")
    Traceback (most recent call last):
    ...
    ValueError: Unknown backend spec 'hf:gpt2'; expected 'llama:NAME_OR_PATH', ...
    """
    if isinstance(spec, Backend):
        if kwargs:
            raise TypeError("Keyword arguments cannot be applied to a Backend instance.")
        return spec
    kind, _, rest = str(spec).partition(":")
    if kind == "llama" and rest:
        return LlamaCppBackend(rest, **kwargs)
    if kind == "openai" and rest:
        match = _OPENAI_SPEC.match(rest)
        if match:
            return OpenAIBackend(match["model"], base_url=match["url"], **kwargs)
        return OpenAIBackend(rest, **kwargs)
    raise ValueError(
        f"Unknown backend spec {spec!r}; expected 'llama:NAME_OR_PATH', 'openai:MODEL' or "
        "'openai:MODEL@BASE_URL'."
    )
