"""Route each prompt to the cheapest model of a ladder that is likely to get it right."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ._ladder import BaseRouter, _py, default_level_models
from ._validation import check_texts, is_text_input
from .classifier import ComplexityClassifier
from .labels import check_outcomes, cheapest_capable_levels

__all__ = ["CostAwareRouter"]

#: Cost weights tried when a budget is calibrated: 0 (accuracy first) up to weights at which
#: only the cheapest model is ever worth it.
_CALIBRATION_WEIGHTS = np.concatenate([[0.0], np.geomspace(1e-4, 1e3, 141)])


def _estimator_has(attr):
    def check(self):
        est = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return est is None or hasattr(est, attr)

    return check


def route_by_utility(success, costs, cost_weight):
    """Index of the model maximising ``success - cost_weight * cost / max(cost)``.

    Ties go to the cheaper model. ``success`` is (n, K); returns (n,) ints.

    Examples
    --------
    >>> route_by_utility(np.array([[0.5, 0.9, 0.95]]), np.array([1., 10., 100.]), 0.1)
    array([1])
    """
    scale = costs.max() if costs.max() > 0 else 1.0
    utility = success - cost_weight * (costs / scale)[None, :]
    # Prefer the cheaper model among near-equal utilities so that routing is stable under
    # rounding noise in probabilities.
    best = utility.max(axis=1, keepdims=True)
    return np.argmax(utility >= best - 1e-12, axis=1)


def route_by_threshold(success, threshold):
    """Index of the cheapest model whose predicted failure probability is at most ``threshold``.

    ``success`` is conditional on the task being solvable, so the last model always
    qualifies.

    Examples
    --------
    >>> route_by_threshold(np.array([[0.5, 0.8, 1.0], [0.95, 1.0, 1.0]]), 0.3)
    array([1, 0])
    """
    ok = (1.0 - success) <= threshold + 1e-12
    ok[:, -1] = True
    return np.argmax(ok, axis=1)


class CostAwareRouter(BaseRouter):
    """Send each prompt to the cheapest model of a ladder that will likely solve it.

    A meta-estimator: it clones ``estimator`` (a complexity classifier), fits it on
    complexity levels, and turns its predictions into a model per prompt with one of four
    strategies. Fitted on an outcome matrix, the levels are derived with
    :func:`~skcomplexity.labels.cheapest_capable_levels` (level ``k`` = the ``k``-th model is
    the cheapest to reach ``success_threshold``; level ``K + 1`` = none does).

    Parameters
    ----------
    estimator : classifier, default=None
        Predicts complexity levels from prompts; needs ``predict_proba`` for every strategy
        but ``"mapping"``. None means :class:`~skcomplexity.ComplexityClassifier`.
    models : list of str
        Model names, cheapest first.
    costs : array-like of shape (n_models,)
        Cost of one call to each model, in any unit (ascending).
    strategy : {"mapping", "threshold", "utility", "budget"}, default="mapping"
        * ``"mapping"``: predict a level, send it to ``mapping[level]`` (the paper's table).
        * ``"threshold"``: start at the cheapest model and escalate while the predicted
          probability that the task needs a more expensive model exceeds ``threshold``.
        * ``"utility"``: maximise ``P(success with model) - cost_weight * cost / max(costs)``.
        * ``"budget"``: the utility rule, with ``cost_weight`` calibrated on out-of-fold
          (cross-fitted) predictions: the weight that spends the most while keeping the mean
          cost per prompt within ``budget``.
    mapping : dict, default=None
        Level -> model name, for ``"mapping"`` and to say which model a user-given level
        needs. None sends level ``k`` to the ``k``-th model and levels above the ladder to
        the last model.
    threshold : float, default=0.3
        Largest tolerated probability that the chosen model is not enough (``"threshold"``).
    cost_weight : float, default=0.1
        Accuracy given up per most-expensive call (``"utility"``).
    budget : float, default=None
        Target mean cost per prompt, in the unit of ``costs`` (``"budget"``).
    success_threshold : float, default=0.5
        Pass rate at which a model counts as capable when fitting on outcomes.
    cv : int or cross-validation generator, default=5
        Folds of the out-of-fold calibration (``"budget"``).
    random_state : int, RandomState instance or None, default=None
        Seed for the default estimator and the calibration folds.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    models_ : ndarray of str
    costs_ : ndarray of float
    classes_ : ndarray
        The complexity levels known to the estimator.
    level_model_ : dict
        Level -> index of the model it is routed to under ``"mapping"``.
    cost_weight_ : float
        The cost weight used at prediction (``"utility"``: ``cost_weight``; ``"budget"``:
        the calibrated one).
    calibration_ : dict
        Only for ``"budget"``: the cost weights tried with their out-of-fold mean cost and
        accuracy, and the chosen index.

    Examples
    --------
    >>> from skcomplexity import CostAwareRouter, ComplexityClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> prompts = ["Add two numbers.", "Reverse a string.",
    ...            "Implement a red-black tree with deletion.", "Write a SAT solver with clause learning."]
    >>> outcomes = [[1, 1], [1, 1], [0, 1], [0, 1]]   # small model, large model
    >>> router = CostAwareRouter(ComplexityClassifier(classifier=LogisticRegression()),
    ...                          models=["small", "large"], costs=[1, 10]).fit(prompts, outcomes)
    >>> router.predict(["Add three numbers.", "Implement an AVL tree with deletion."])
    array(['small', 'large'], dtype=object)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "models": ["array-like"],
        "costs": ["array-like"],
        "strategy": [StrOptions({"mapping", "threshold", "utility", "budget"})],
        "mapping": [dict, None],
        "threshold": [Interval(numbers.Real, 0, 1, closed="both")],
        "cost_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "budget": [Interval(numbers.Real, 0, None, closed="left"), None],
        "success_threshold": [Interval(numbers.Real, 0, 1, closed="right")],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        models=None,
        costs=None,
        strategy="mapping",
        mapping=None,
        threshold=0.3,
        cost_weight=0.1,
        budget=None,
        success_threshold=0.5,
        cv=5,
        random_state=None,
    ):
        self.estimator = estimator
        self.models = models
        self.costs = costs
        self.strategy = strategy
        self.mapping = mapping
        self.threshold = threshold
        self.cost_weight = cost_weight
        self.budget = budget
        self.success_threshold = success_threshold
        self.cv = cv
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _levels_and_success(self, Y):
        """Levels to learn, and the (n, K) success matrix used to score routes."""
        Y = np.asarray(Y)
        n_models = len(self.models_)
        if Y.ndim == 2:
            outcomes = check_outcomes(Y, n_models=n_models, name="Y")
            levels = cheapest_capable_levels(outcomes, threshold=self.success_threshold)
            return levels, outcomes, True
        if Y.ndim != 1:
            raise ValueError(
                f"Y must be levels (1-D) or outcomes (n_samples, n_models), got shape {Y.shape}."
            )
        if np.iscomplexobj(Y):
            raise ValueError("Complex data not supported as complexity levels.")
        if Y.dtype.kind == "f" and np.isnan(Y).any():
            raise ValueError("Y holds NaN; every prompt needs a complexity level.")
        return Y, None, False

    def _build_level_model(self, classes):
        if self.mapping is None:
            return default_level_models(classes, len(self.models_))
        names = {_py(m): i for i, m in enumerate(self.models_)}
        unknown = sorted({str(v) for v in self.mapping.values() if _py(v) not in names})
        if unknown:
            raise ValueError(
                f"mapping names unknown model(s) {unknown}; the ladder is {list(self.models_)}."
            )
        missing = [_py(c) for c in classes if _py(c) not in self.mapping]
        if missing:
            raise ValueError(
                f"mapping has no model for level(s) {missing}; it covers {sorted(self.mapping)}."
            )
        return {_py(c): names[_py(self.mapping[_py(c)])] for c in classes}

    def fit(self, X, Y):
        """Fit the complexity classifier and, for ``"budget"``, calibrate the cost weight.

        Parameters
        ----------
        X : sequence of str, or array-like of shape (n_samples, n_features)
            Prompts (or features, for a numeric estimator).
        Y : array-like of shape (n_samples, n_models) or (n_samples,)
            Outcomes (0/1 or pass rates, columns in the order of ``models``), or complexity
            levels.

        Returns
        -------
        self : CostAwareRouter
        """
        self._validate_params()
        self._check_ladder()
        if Y is None:
            raise ValueError(
                "CostAwareRouter requires y to be passed, but the target y is None: give "
                "outcomes (n_samples, n_models) or complexity levels."
            )
        if X is None:
            raise ValueError("X is None; pass a sequence of prompts (or a feature matrix).")
        if is_text_input(X):
            X = check_texts(X)
        levels, success, from_outcomes = self._levels_and_success(Y)
        n = _num_samples(X)
        if len(levels) != n:
            raise ValueError(f"X has {n} prompts but Y has {len(levels)} rows.")
        # Fail on a bad mapping or a missing budget before paying for the fit.
        self._build_level_model(np.unique(levels).tolist())
        if self.strategy == "budget" and self.budget is None:
            raise ValueError("strategy='budget' needs a budget (mean cost per prompt).")
        estimator = (
            ComplexityClassifier(random_state=self.random_state)
            if self.estimator is None
            else self.estimator
        )
        if self.strategy != "mapping" and not hasattr(estimator, "predict_proba"):
            raise ValueError(f"strategy={self.strategy!r} needs an estimator with predict_proba.")
        self.estimator_ = clone(estimator).fit(X, levels)
        self.classes_ = self.estimator_.classes_
        self.level_model_ = self._build_level_model(list(self.classes_))
        # The cheapest model that succeeds at each level: the mapped one, except that a level
        # above the ladder (derived from outcomes) means that no model does.
        n_models = len(self.models_)
        self.level_capable_ = {
            level: n_models if (from_outcomes and level > n_models) else model
            for level, model in self.level_model_.items()
        }
        self._capable = np.asarray([self.level_capable_[_py(c)] for c in self.classes_])
        self.cost_weight_ = float(self.cost_weight)
        if self.strategy == "budget":
            if success is None:
                success = self._capable_matrix(levels)
            self._calibrate(X, levels, success)
        return self

    def _level_models(self, levels):
        return self.level_capable_

    def _capable_matrix(self, levels):
        """Success matrix implied by levels: model k succeeds iff k >= the capable model."""
        need = np.asarray([self.level_capable_[_py(v)] for v in levels])
        return (np.arange(len(self.models_))[None, :] >= need[:, None]).astype(float)

    def _calibrate(self, X, levels, success):
        cv = self.cv
        if isinstance(cv, numbers.Integral):
            _, counts = np.unique(levels, return_counts=True)
            # Stratify when every level can appear in each fold; else plain shuffled folds.
            if counts.min() >= cv:
                cv = StratifiedKFold(cv, shuffle=True, random_state=_seed(self.random_state))
            else:
                from sklearn.model_selection import KFold

                cv = KFold(cv, shuffle=True, random_state=_seed(self.random_state))
        with warnings.catch_warnings():
            # Rare levels missing from a training fold are expected here; their probability
            # is zero for that fold, which is what the calibration should see.
            warnings.simplefilter("ignore", UserWarning)
            proba = cross_val_predict(
                clone(self.estimator_), X, levels, cv=cv, method="predict_proba"
            )
        probs = self._model_success(proba)
        costs, accs = [], []
        for w in _CALIBRATION_WEIGHTS:
            idx = route_by_utility(probs, self.costs_, w)
            costs.append(self.costs_[idx].mean())
            accs.append(success[np.arange(len(idx)), idx].mean())
        costs, accs = np.asarray(costs), np.asarray(accs)
        within = np.flatnonzero(costs <= self.budget * (1 + 1e-9))
        # Spend the budget: among weights within it, take the one that spends the most (the
        # most accurate among those). Out-of-fold accuracy on a few hundred prompts is too
        # noisy to choose by: picking the most accurate weight saved money in-sample and lost
        # accuracy on unseen prompts, while spend carries over far more reliably.
        if within.size == 0:
            warnings.warn(
                f"budget {self.budget:g} is below the cheapest model's cost "
                f"{self.costs_.min():g}; routing everything to the cheapest model.",
                UserWarning,
            )
            best = len(_CALIBRATION_WEIGHTS) - 1
        else:
            order = np.lexsort((-accs[within], -costs[within]))
            best = within[order[0]]
        self.cost_weight_ = float(_CALIBRATION_WEIGHTS[best])
        self.calibration_ = {
            "cost_weight": _CALIBRATION_WEIGHTS.copy(),
            "mean_cost": costs,
            "accuracy": accs,
            "best_index": int(best),
        }

    # --------------------------------------------------------------- predicting
    def _model_success(self, proba):
        """P(model k succeeds) for each prompt, from level probabilities (n, n_classes)."""
        n_models = len(self.models_)
        enough = (np.arange(n_models)[None, :] >= self._capable[:, None]).astype(float)
        return proba @ enough

    def predict_success_proba(self, X):
        """Predicted probability that each model of the ladder solves each prompt.

        A model solves a task when the task's level is one that model (or a cheaper one)
        handles; levels meaning "no model" count as failures for every model.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_models)
        """
        check_is_fitted(self, "estimator_")
        return self._model_success(self.estimator_.predict_proba(X))

    def _route(self, X, cost_weight=None, threshold=None):
        strategy = self.strategy
        if strategy == "mapping":
            levels = self.estimator_.predict(X)
            return np.asarray([self.level_model_[_py(v)] for v in levels], dtype=int)
        success = self.predict_success_proba(X)
        if strategy == "threshold":
            solvable = success[:, -1:]
            conditional = np.divide(success, solvable, out=np.ones_like(success), where=solvable > 0)
            return route_by_threshold(conditional, self.threshold if threshold is None else threshold)
        weight = self.cost_weight_ if cost_weight is None else cost_weight
        return route_by_utility(success, self.costs_, weight)

    def predict_index(self, X):
        """Position in ``models`` of the model each prompt is routed to."""
        check_is_fitted(self, "estimator_")
        return self._route(X)

    def sweep(self, X, cost_weights=None):
        """Routes for a range of cost weights, from one pass of the classifier.

        The utility rule traced over ``cost_weights`` gives the router's whole
        cost-accuracy curve, which is what APGR, AIQ and
        :class:`~skcomplexity.plotting.RoutingCurveDisplay` need.

        Parameters
        ----------
        X : prompts
        cost_weights : array-like, default=None
            None means the weights used to calibrate budgets.

        Returns
        -------
        cost_weights : ndarray of shape (n_points,)
        routes : ndarray of shape (n_points, n_samples)
            Model indices.
        """
        check_is_fitted(self, "estimator_")
        weights = _CALIBRATION_WEIGHTS if cost_weights is None else np.asarray(cost_weights, float)
        success = self.predict_success_proba(X)
        return weights, np.vstack([route_by_utility(success, self.costs_, w) for w in weights])

    @available_if(_estimator_has("predict_proba"))
    def predict_level_proba(self, X):
        """Level probabilities from the wrapped classifier (columns: ``classes_``).

        Not named ``predict_proba``: the router predicts models, and scikit-learn expects
        ``predict_proba``'s columns to be the classes ``predict`` returns.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict_level(self, X):
        """Complexity level predicted by the wrapped classifier."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @property
    def n_features_in_(self):
        """Number of features seen by the wrapped estimator (numeric input only)."""
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.target_tags.required = True
        inner = ComplexityClassifier() if self.estimator is None else self.estimator
        tags.input_tags.sparse = get_tags(inner).input_tags.sparse
        return tags


def _num_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _seed(random_state):
    if random_state is None or isinstance(random_state, numbers.Integral):
        return random_state
    return random_state.randint(np.iinfo(np.int32).max)
