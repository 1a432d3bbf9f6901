"""Reference points for routers and complexity classifiers.

A router is only worth its keep if it beats these: always the same model, a coin weighted to
spend the same, and, as an upper bound that no real router reaches, an oracle that sees the
outcomes. For complexity classification: the majority level and TF-IDF + logistic regression.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._ladder import BaseRouter
from ._validation import check_texts
from .labels import check_outcomes

__all__ = [
    "SingleModelRouter",
    "RandomRouter",
    "OracleRouter",
    "MajorityClassifier",
    "TfidfClassifier",
]


def _num_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


class SingleModelRouter(BaseRouter):
    """Send every prompt to the same model.

    Parameters
    ----------
    models : list of str
        The ladder, cheapest first.
    costs : array-like of shape (n_models,)
    model : str, default=None
        The model to use; None means the most expensive.

    Examples
    --------
    >>> r = SingleModelRouter(models=["a", "b"], costs=[1, 10], model="a").fit(["x", "y"])
    >>> r.predict(["p", "q"]), r.predict_cost(["p"])
    (array(['a', 'a'], dtype=object), array([1.]))
    """

    _parameter_constraints = {"models": ["array-like"], "costs": ["array-like"], "model": [str, None]}

    def __init__(self, *, models=None, costs=None, model=None):
        self.models = models
        self.costs = costs
        self.model = model

    def fit(self, X, Y=None):
        """Check the ladder and the prompts; nothing is learnt."""
        self._validate_params()
        self._check_ladder()
        self._validate_X(X, reset=True)
        if self.model is None:
            self.index_ = len(self.models_) - 1
        elif self.model not in list(self.models_):
            raise ValueError(f"model {self.model!r} is not in the ladder {list(self.models_)}.")
        else:
            self.index_ = list(self.models_).index(self.model)
        return self

    def predict_index(self, X):
        """Position in ``models`` of the chosen model, the same for every prompt."""
        check_is_fitted(self, "index_")
        return np.full(_num_samples(self._validate_X(X, reset=False)), self.index_, dtype=int)


class RandomRouter(BaseRouter):
    """Pick a model at random, weighted so that the expected cost matches a target.

    With ``target_cost`` between two adjacent models' costs, prompts go to those two models
    in the proportion that spends ``target_cost`` on average; the baseline every router must
    beat at equal spend.

    Parameters
    ----------
    models : list of str
    costs : array-like of shape (n_models,)
    target_cost : float, default=None
        Expected cost per prompt; None picks uniformly.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; with an int, ``predict`` gives the same routes every call.

    Attributes
    ----------
    probabilities_ : ndarray of shape (n_models,)

    Examples
    --------
    >>> r = RandomRouter(models=["a", "b"], costs=[0, 10], target_cost=2.5).fit(["p"])
    >>> r.probabilities_
    array([0.75, 0.25])
    """

    _parameter_constraints = {
        "models": ["array-like"],
        "costs": ["array-like"],
        "target_cost": [Interval(numbers.Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, *, models=None, costs=None, target_cost=None, random_state=None):
        self.models = models
        self.costs = costs
        self.target_cost = target_cost
        self.random_state = random_state

    def fit(self, X, Y=None):
        """Work out the mixing probabilities (the prompts are only checked)."""
        self._validate_params()
        self._check_ladder()
        self._validate_X(X, reset=True)
        k = len(self.models_)
        p = np.full(k, 1.0 / k)
        if self.target_cost is not None:
            c = self.costs_
            t = float(np.clip(self.target_cost, c[0], c[-1]))
            p = np.zeros(k)
            hi = int(np.searchsorted(c, t, side="left"))
            if c[min(hi, k - 1)] == t:
                p[min(hi, k - 1)] = 1.0
            else:
                lo = hi - 1
                w = (t - c[lo]) / (c[hi] - c[lo])
                p[lo], p[hi] = 1 - w, w
        self.probabilities_ = p
        return self

    def predict_index(self, X):
        """Positions in ``models`` drawn at random with ``probabilities_``."""
        check_is_fitted(self, "probabilities_")
        n = _num_samples(self._validate_X(X, reset=False))
        rng = check_random_state(self.random_state)
        return rng.choice(len(self.models_), size=n, p=self.probabilities_)


class OracleRouter(BaseRouter):
    """The cheapest model that actually succeeded, read from the outcomes: an upper bound.

    Prompts no model solved go to the cheapest model (spending more would not help).

    Examples
    --------
    >>> r = OracleRouter(models=["a", "b"], costs=[1, 10]).fit()
    >>> r.predict(["p", "q", "r"], Y=[[1, 1], [0, 1], [0, 0]])
    array(['a', 'b', 'a'], dtype=object)
    """

    _parameter_constraints = {
        "models": ["array-like"],
        "costs": ["array-like"],
        "success_threshold": [Interval(numbers.Real, 0, 1, closed="right")],
    }

    def __init__(self, *, models=None, costs=None, success_threshold=0.5):
        self.models = models
        self.costs = costs
        self.success_threshold = success_threshold

    def fit(self, X=None, Y=None):
        """Check the ladder; nothing is learnt."""
        self._validate_params()
        self._check_ladder()
        return self

    def predict_index(self, X, Y=None):
        """Position of the cheapest model whose outcome in ``Y`` reaches the threshold."""
        check_is_fitted(self, "models_")
        if Y is None:
            raise ValueError("OracleRouter needs the outcomes: predict(X, Y=outcomes).")
        out = check_outcomes(Y, n_models=len(self.models_), name="Y")
        if out.shape[0] != _num_samples(X):
            raise ValueError(f"Y has {out.shape[0]} rows but X has {_num_samples(X)} prompts.")
        ok = out >= self.success_threshold
        return np.where(ok.any(axis=1), ok.argmax(axis=1), 0)

    def predict(self, X, Y=None):
        """Name of the cheapest successful model for each prompt (``Y`` is required)."""
        return self.models_[self.predict_index(X, Y)]

    def predict_cost(self, X, Y=None):
        """Cost of the oracle's choice for each prompt (``Y`` is required)."""
        return self.costs_[self.predict_index(X, Y)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of the oracle's routes on the outcomes ``y`` it was given."""
        success = self._success_of(self.predict_index(X, y), y)
        return float(np.average(success, weights=sample_weight))


class MajorityClassifier(ClassifierMixin, BaseEstimator):
    """Always predict the most frequent complexity level; probabilities are the level shares.

    Examples
    --------
    >>> MajorityClassifier().fit(["a", "b", "c"], [1, 1, 2]).predict(["d"])
    array([1])
    """

    def fit(self, X, y):
        """Record the share of each level in ``y``; the prompts are only checked."""
        check_texts(X)
        y = np.asarray(y)
        if len(y) != _num_samples(X):
            raise ValueError(f"X has {_num_samples(X)} prompts but y has {len(y)} labels.")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.class_prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        """The level shares seen in ``fit``, for every prompt."""
        check_is_fitted(self, "classes_")
        return np.tile(self.class_prior_, (len(check_texts(X)), 1))

    def predict(self, X):
        """The most frequent level, for every prompt."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


class TfidfClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF word and character n-grams with a logistic regression: the bag-of-words baseline.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength of the logistic regression.
    class_weight : {"balanced"} or None, default="balanced"
    max_features : int, default=20000

    Examples
    --------
    >>> clf = TfidfClassifier().fit(["sort a list", "sort an array", "parse a regex", "compile a regex"], [1, 1, 2, 2])
    >>> clf.predict(["sort the list"])
    array([1])
    """

    _parameter_constraints = {
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), None],
        "max_features": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, C=1.0, *, class_weight="balanced", max_features=20000):
        self.C = C
        self.class_weight = class_weight
        self.max_features = max_features

    def fit(self, X, y):
        """Fit the vocabulary and the logistic regression on prompts and levels."""
        self._validate_params()
        texts = check_texts(X)
        y = np.asarray(y)
        if len(y) != len(texts):
            raise ValueError(f"X has {len(texts)} prompts but y has {len(y)} labels.")
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, max_features=self.max_features
        ).fit(texts)
        self.classifier_ = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=2000
        ).fit(self.vectorizer_.transform(texts), y)
        self.classes_ = self.classifier_.classes_
        return self

    def predict_proba(self, X):
        """Probability of each level (columns: ``classes_``)."""
        check_is_fitted(self, "classifier_")
        return self.classifier_.predict_proba(self.vectorizer_.transform(check_texts(X)))

    def predict(self, X):
        """The most probable level of each prompt."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags
