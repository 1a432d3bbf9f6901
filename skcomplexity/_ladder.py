"""What every router shares: a ladder of models with costs, routes as indices, scoring."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data

from ._validation import check_costs, check_models, check_texts, is_text_input
from .labels import check_outcomes

__all__ = ["BaseRouter", "routes_to_indices", "default_level_models"]


def default_level_models(levels, n_models):
    """Which model each level needs when no mapping is given.

    Levels that are integers from 1 go to the model at that position (levels past the ladder
    to the last model); other labels go by their rank.

    Examples
    --------
    >>> default_level_models([1, 2, 3, 4], 3)
    {1: 0, 2: 1, 3: 2, 4: 2}
    >>> default_level_models(["easy", "hard"], 3)
    {'easy': 0, 'hard': 1}
    """
    levels = sorted(_py(v) for v in set(_py(v) for v in levels))
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in levels):
        return {v: min(int(v), n_models) - 1 for v in levels}
    return {v: min(i, n_models - 1) for i, v in enumerate(levels)}


def _py(value):
    return value.item() if hasattr(value, "item") else value


def routes_to_indices(routes, models):
    """Turn model names (or indices) into positions in the ladder.

    Examples
    --------
    >>> routes_to_indices(["b", "a", "b"], ["a", "b"])
    array([1, 0, 1])
    """
    routes = np.asarray(routes)
    if routes.dtype.kind in "iu":
        if routes.size and (routes.min() < 0 or routes.max() >= len(models)):
            raise ValueError(f"route indices must lie in [0, {len(models) - 1}].")
        return routes.astype(int)
    position = {_py(m): i for i, m in enumerate(models)}
    unknown = sorted({str(_py(r)) for r in routes.ravel() if _py(r) not in position})
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; the ladder is {list(models)}.")
    return np.asarray([position[_py(r)] for r in routes.ravel()], dtype=int)


class BaseRouter(BaseEstimator):
    """Base class for estimators that pick one model of a ladder per prompt.

    Subclasses implement :meth:`predict_index`; names, costs and scores derive from it.
    ``models`` are ordered by ascending cost and ``costs`` holds one value per model, in any
    unit (dollars per call, tokens, the paper's 1 : 10 : 100).
    """

    def _check_ladder(self):
        self.models_ = check_models(self.models)
        self.costs_ = check_costs(self.costs, len(self.models_))

    def _validate_X(self, X, *, reset):
        """Prompts are checked as text; numeric input as scikit-learn validates features."""
        if X is not None and is_text_input(X):
            if reset and hasattr(self, "n_features_in_"):
                del self.n_features_in_
            return check_texts(X)
        return validate_data(self, X, reset=reset)

    def predict_index(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X):
        """Name of the model each prompt is routed to.

        Returns
        -------
        models : ndarray of shape (n_samples,)
            Entries of ``models``.
        """
        index = self.predict_index(X)
        return self.models_[index]

    def predict_cost(self, X):
        """Cost of the routed model for each prompt, in the unit of ``costs``."""
        index = self.predict_index(X)
        return self.costs_[index]

    def _level_models(self, levels):
        """Model each level needs; routers that learn a mapping override this."""
        return default_level_models(levels, len(self.models_))

    def _success_of(self, index, Y):
        """Whether each routed answer succeeds, given outcomes (n, K)."""
        outcomes = check_outcomes(Y, n_models=len(self.models_), name="Y")
        if outcomes.shape[0] != len(index):
            raise ValueError(f"Y has {outcomes.shape[0]} rows but X has {len(index)} prompts.")
        return outcomes[np.arange(len(index)), index]

    def _level_success(self, index, levels):
        """Whether each routed model is at least the model the prompt's level needs."""
        levels = np.asarray(levels)
        if levels.shape[0] != len(index):
            raise ValueError(f"Y has {levels.shape[0]} rows but X has {len(index)} prompts.")
        need = self._level_models(levels)
        missing = sorted({str(_py(v)) for v in levels if _py(v) not in need})
        if missing:
            raise ValueError(f"Y holds level(s) {missing} this router does not know.")
        return (index >= np.asarray([need[_py(v)] for v in levels])).astype(float)

    def score(self, X, y, sample_weight=None):
        """Routed accuracy: the mean outcome of the model each prompt is sent to.

        Parameters
        ----------
        X : prompts
        y : array-like of shape (n_samples, n_models) or (n_samples,)
            Outcomes (0/1 or pass rates, columns in the order of ``models``); or complexity
            levels, scored as the share of prompts sent to a model able to solve them.
        sample_weight : array-like of shape (n_samples,), default=None
        """
        index = self.predict_index(X)
        Y = np.asarray(y)
        if Y.ndim == 2:
            success = self._success_of(index, Y)
        else:
            success = self._level_success(index, Y)
        return float(np.average(success, weights=sample_weight))
