"""Predict a task's complexity level from its instruction alone."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from .embedding import PromptFeaturesMixin

__all__ = ["ComplexityClassifier", "default_head"]


def default_head(random_state=None):
    """The LightGBM head used when ``classifier=None``.

    Tuned for what complexity data looks like: a few hundred to a few thousand prompts and a
    384-wide embedding. Small trees, a third of the features per tree and an L2 penalty keep
    it from memorising a few hundred prompts (on RouterBench's 299 MBPP prompts, deeper
    default trees gave over-confident probabilities and worse routes under a budget);
    ``class_weight="balanced"`` keeps rare hard levels in play.

    Examples
    --------
    >>> default_head().get_params()["num_leaves"]
    7
    """
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=100,
        learning_rate=0.05,
        num_leaves=7,
        min_child_samples=10,
        reg_lambda=5.0,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.3,
        class_weight="balanced",
        random_state=random_state,
        n_jobs=1,
        verbose=-1,
    )


def _head_has(attr):
    def check(self):
        head = self.classifier_ if hasattr(self, "classifier_") else self.classifier
        return head is None or hasattr(head, attr)

    return check


class ComplexityClassifier(PromptFeaturesMixin, ClassifierMixin, BaseEstimator):
    """Embeddings + a classifier head: prompt in, complexity level out.

    Text input (a list, array or pandas Series of prompts) goes through ``embedder``; a
    numeric matrix is taken as precomputed embeddings and goes straight to the head, which
    lets the embedding step be shared across a grid search and lets scikit-learn's common
    checks run on the estimator.

    Parameters
    ----------
    embedder : transformer, default=None
        Maps prompts to vectors. None means :class:`~skcomplexity.SentenceEmbedder` with its
        offline default model. It is cloned in :meth:`fit`.
    classifier : classifier, default=None
        The head. None means LightGBM as configured by :func:`default_head`. Any
        scikit-learn classifier works; it is cloned in :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        Seed of the default head (ignored when ``classifier`` is given).

    Attributes
    ----------
    embedder_ : transformer or None
        The fitted embedder; None when fitted on numeric input.
    classifier_ : classifier
        The fitted head.
    classes_ : ndarray
        The complexity levels seen in ``fit``.
    n_features_in_ : int
        Only when fitted on numeric input.

    Examples
    --------
    >>> from skcomplexity import ComplexityClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> prompts = ["Add two numbers.", "Return the max of a list.",
    ...            "Solve the travelling salesman problem exactly with dynamic programming.",
    ...            "Find the longest palindromic subsequence with memoised recursion."]
    >>> clf = ComplexityClassifier(classifier=LogisticRegression()).fit(prompts, [1, 1, 3, 3])
    >>> clf.predict(["Multiply two numbers."])
    array([1])
    """

    # LightGBM and most linear heads take sparse features (TF-IDF, one-hot) as they are.
    _accept_sparse = ["csr", "csc"]

    _parameter_constraints = {
        "embedder": [HasMethods(["fit", "transform"]), None],
        "classifier": [HasMethods(["fit", "predict"]), None],
        "random_state": ["random_state"],
    }

    def __init__(self, embedder=None, classifier=None, *, random_state=None):
        self.embedder = embedder
        self.classifier = classifier
        self.random_state = random_state

    def fit(self, X, y):
        """Fit the embedder (on text input) and the head.

        Parameters
        ----------
        X : sequence of str, or array-like of shape (n_samples, n_features)
            Prompts, or precomputed embeddings.
        y : array-like of shape (n_samples,)
            Complexity levels (any labels; ordered integers are usual).

        Returns
        -------
        self : ComplexityClassifier
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                "ComplexityClassifier requires y to be passed, but the target y is None."
            )
        Z = self._fit_features(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D complexity levels, got shape {y.shape}; turn an outcome table "
                "into levels with skcomplexity.labels first, or fit CostAwareRouter on it."
            )
        if len(y) != Z.shape[0]:
            raise ValueError(f"X has {Z.shape[0]} prompts but y has {len(y)} labels.")
        if y.dtype.kind == "f" and np.isnan(y).any():
            raise ValueError("y holds NaN; every prompt needs a complexity level.")
        head = default_head(self.random_state) if self.classifier is None else self.classifier
        self.classifier_ = clone(head).fit(Z, y)
        self.classes_ = self.classifier_.classes_
        return self

    def transform_embeddings(self, X):
        """Return the features the head sees (embeddings for prompts, X itself otherwise)."""
        return self._features(X)

    def predict(self, X):
        """Predict the complexity level of each prompt."""
        Z = self._features(X)
        return self.classifier_.predict(Z)

    @available_if(_head_has("predict_proba"))
    def predict_proba(self, X):
        """Probability of each level, columns in the order of ``classes_``."""
        Z = self._features(X)
        return self.classifier_.predict_proba(Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.sparse = True
        return tags
