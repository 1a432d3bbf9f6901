"""What every router shares: a ladder of models with costs, routes as indices, scoring."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from ._validation import check_costs, check_models
from .labels import check_outcomes

__all__ = ["BaseRouter", "routes_to_indices"]


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
    position = {m: i for i, m in enumerate(models)}
    unknown = sorted({str(r) for r in routes.ravel()} - set(position))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; the ladder is {list(models)}.")
    return np.asarray([position[str(r)] for r in routes.ravel()], dtype=int)


class BaseRouter(BaseEstimator):
    """Base class for estimators that pick one model of a ladder per prompt.

    Subclasses implement :meth:`predict_index`; names, costs and scores derive from it.
    ``models`` are ordered by ascending cost and ``costs`` holds one value per model, in any
    unit (dollars per call, tokens, the paper's 1 : 10 : 100).
    """

    def _check_ladder(self):
        self.models_ = np.asarray(check_models(self.models), dtype=object)
        self.costs_ = check_costs(self.costs, len(self.models_))

    def predict_index(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X):
        """Name of the model each prompt is routed to.

        Returns
        -------
        models : ndarray of str objects of shape (n_samples,)
        """
        return self.models_[self.predict_index(X)]

    def predict_cost(self, X):
        """Cost of the routed model for each prompt, in the unit of ``costs``."""
        return self.costs_[self.predict_index(X)]

    def _success_of(self, index, Y):
        """Whether each routed answer succeeds, given outcomes (n, K)."""
        outcomes = check_outcomes(Y, n_models=len(self.models_), name="Y")
        if outcomes.shape[0] != len(index):
            raise ValueError(f"Y has {outcomes.shape[0]} rows but X has {len(index)} prompts.")
        return outcomes[np.arange(len(index)), index]

    def score(self, X, Y, sample_weight=None):
        """Routed accuracy: the mean outcome of the model each prompt is sent to.

        Parameters
        ----------
        X : prompts
        Y : array-like of shape (n_samples, n_models)
            Outcomes (0/1 or pass rates), columns in the order of ``models``.
        sample_weight : array-like of shape (n_samples,), default=None
        """
        success = self._success_of(self.predict_index(X), Y)
        return float(np.average(success, weights=sample_weight))
