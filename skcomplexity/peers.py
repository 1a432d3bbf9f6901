"""Peer routers, as RouterBench and RouteLLM define them, to measure CostAwareRouter against.

* :class:`KNNRouter` and :class:`MLPRouter` are RouterBench's predictive routers (Hu et al.,
  2024, section 4.1): a model of each LLM's success on a prompt, learnt from embeddings of
  the training prompts, then the model maximising ``success - cost_weight * cost`` is chosen.
  Costs are divided by the ladder's largest cost so that ``cost_weight`` reads as "accuracy
  given up per most-expensive call", as in :class:`~skcomplexity.CostAwareRouter`.
* :class:`WinRateRouter` is RouteLLM's approach (Ong et al., 2024): one classifier predicts
  whether the strong model is needed, and a threshold on its score, calibrated to a target
  share of strong calls, decides. It only ever uses two models of the ladder.

Unlike :class:`~skcomplexity.CostAwareRouter`, which learns one complexity level per prompt,
the first two learn each model's success separately, and the third ignores the middle of the
ladder; comparing them says whether the complexity view is worth it.

Every router here accepts prompts (embedded with ``embedder``) or a numeric matrix taken as
precomputed embeddings, and has a ``sweep`` that traces its cost-accuracy curve from one
prediction pass.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._ladder import BaseRouter
from .embedding import PromptFeaturesMixin
from .labels import check_outcomes
from .router import _CALIBRATION_WEIGHTS, route_by_utility

__all__ = ["KNNRouter", "MLPRouter", "WinRateRouter"]

#: Shares of strong-model calls traced by :meth:`WinRateRouter.sweep` by default.
_STRONG_SHARES = np.linspace(0.0, 1.0, 41)


class _EmbeddingRouter(PromptFeaturesMixin, BaseRouter):
    """Shared plumbing: ladder checks, prompt embedding, outcome validation."""

    def _fit_features_and_outcomes(self, X, Y):
        self._validate_params()
        self._check_ladder()
        Z = self._fit_features(X)
        outcomes = check_outcomes(Y, n_models=len(self.models_), name="Y")
        if outcomes.shape[0] != Z.shape[0]:
            raise ValueError(f"X has {Z.shape[0]} prompts but Y has {outcomes.shape[0]} rows.")
        return Z, outcomes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags


class _UtilityRouter(_EmbeddingRouter):
    """Routers that predict each model's success and trade it against cost."""

    def predict_success_proba(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_index(self, X):
        """Position in ``models`` of the model maximising predicted success minus cost."""
        return route_by_utility(self.predict_success_proba(X), self.costs_, self.cost_weight)

    def sweep(self, X, cost_weights=None):
        """Routes for a range of cost weights, from one prediction pass.

        Parameters
        ----------
        X : prompts or embeddings
        cost_weights : array-like, default=None
            None means the weights :class:`~skcomplexity.CostAwareRouter` sweeps, so that
            curves of different routers are traced at the same weights.

        Returns
        -------
        cost_weights : ndarray of shape (n_points,)
        routes : ndarray of shape (n_points, n_samples)
        """
        weights = _CALIBRATION_WEIGHTS if cost_weights is None else np.asarray(cost_weights, float)
        success = self.predict_success_proba(X)
        return weights, np.vstack([route_by_utility(success, self.costs_, w) for w in weights])


class KNNRouter(_UtilityRouter):
    """RouterBench's kNN router: each model's success is its mean outcome on the nearest prompts.

    Parameters
    ----------
    embedder : transformer, default=None
        Maps prompts to vectors; None means :class:`~skcomplexity.SentenceEmbedder`. Ignored
        when ``X`` is numeric (taken as embeddings).
    models : list of str
        Model names, cheapest first.
    costs : array-like of shape (n_models,)
        Cost of one call to each model.
    n_neighbors : int, default=10
        Training prompts averaged per prediction (RouterBench uses 5 to 40).
    metric : str, default="cosine"
        Distance between embeddings.
    weights : {"uniform", "distance"}, default="uniform"
    cost_weight : float, default=0.1
        Accuracy given up per most-expensive call.

    Attributes
    ----------
    embedder_ : transformer or None
    neighbors_ : KNeighborsRegressor
        Fitted on embeddings, one output per model.
    models_, costs_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skcomplexity.peers import KNNRouter
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1]])          # embeddings of four prompts
    >>> Y = np.array([[1, 1], [1, 1], [0, 1], [0, 1]])      # small model, large model
    >>> router = KNNRouter(models=["small", "large"], costs=[1, 10], n_neighbors=2,
    ...                    metric="euclidean").fit(X, Y)
    >>> router.predict([[0.05], [1.05]])
    array(['small', 'large'], dtype=object)
    """

    _parameter_constraints = {
        "embedder": [HasMethods(["fit", "transform"]), None],
        "models": ["array-like"],
        "costs": ["array-like"],
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "metric": [str, callable],
        "weights": [StrOptions({"uniform", "distance"})],
        "cost_weight": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        embedder=None,
        *,
        models=None,
        costs=None,
        n_neighbors=10,
        metric="cosine",
        weights="uniform",
        cost_weight=0.1,
    ):
        self.embedder = embedder
        self.models = models
        self.costs = costs
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.weights = weights
        self.cost_weight = cost_weight

    def fit(self, X, Y):
        """Store the training embeddings and outcomes.

        Parameters
        ----------
        X : sequence of str, or array-like of shape (n_samples, n_features)
        Y : array-like of shape (n_samples, n_models)
            Outcomes (0/1 or pass rates), columns in the order of ``models``.

        Returns
        -------
        self : KNNRouter
        """
        Z, outcomes = self._fit_features_and_outcomes(X, Y)
        # With fewer prompts than neighbours, average them all rather than fail.
        k = min(self.n_neighbors, Z.shape[0])
        self.neighbors_ = KNeighborsRegressor(
            n_neighbors=k, metric=self.metric, weights=self.weights
        ).fit(Z, outcomes)
        return self

    def predict_success_proba(self, X):
        """Mean outcome of each model on the nearest training prompts, shape (n, n_models)."""
        check_is_fitted(self, "neighbors_")
        return np.clip(self.neighbors_.predict(self._features(X)), 0.0, 1.0)


class MLPRouter(_UtilityRouter):
    """RouterBench's MLP router: a small neural network predicts each model's success.

    0/1 outcomes are learnt as a multi-label classification (one sigmoid per model, so the
    outputs are probabilities); pass rates in between are learnt by regression and clipped to
    [0, 1]. Embeddings are standardised first, as MLPs want.

    Parameters
    ----------
    embedder : transformer, default=None
        None means :class:`~skcomplexity.SentenceEmbedder`; ignored for numeric ``X``.
    models : list of str
    costs : array-like of shape (n_models,)
    hidden_layer_sizes : tuple of int, default=(100,)
    alpha : float, default=1e-2
        L2 penalty; a few hundred prompts of 384 dimensions need a fair amount.
    max_iter : int, default=500
    cost_weight : float, default=0.1
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    embedder_ : transformer or None
    network_ : Pipeline
        ``StandardScaler`` then ``MLPClassifier`` (0/1 outcomes) or ``MLPRegressor``.
    models_, costs_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skcomplexity.peers import MLPRouter
    >>> X = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]])
    >>> Y = np.array([[1, 1], [1, 1], [1, 1], [0, 1], [0, 1], [0, 1]])
    >>> router = MLPRouter(models=["small", "large"], costs=[1, 10], hidden_layer_sizes=(8,),
    ...                    alpha=1e-4, max_iter=2000, random_state=0).fit(X, Y)
    >>> router.predict([[0.0], [1.2]])
    array(['small', 'large'], dtype=object)
    """

    _parameter_constraints = {
        "embedder": [HasMethods(["fit", "transform"]), None],
        "models": ["array-like"],
        "costs": ["array-like"],
        "hidden_layer_sizes": [tuple, list],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "cost_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        embedder=None,
        *,
        models=None,
        costs=None,
        hidden_layer_sizes=(100,),
        alpha=1e-2,
        max_iter=500,
        cost_weight=0.1,
        random_state=None,
    ):
        self.embedder = embedder
        self.models = models
        self.costs = costs
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.max_iter = max_iter
        self.cost_weight = cost_weight
        self.random_state = random_state

    def fit(self, X, Y):
        """Fit the network on embeddings and outcomes.

        Parameters
        ----------
        X : sequence of str, or array-like of shape (n_samples, n_features)
        Y : array-like of shape (n_samples, n_models)

        Returns
        -------
        self : MLPRouter
        """
        Z, outcomes = self._fit_features_and_outcomes(X, Y)
        kwargs = dict(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        binary = np.isin(outcomes, (0.0, 1.0)).all()
        # A model that always (or never) succeeded in training is a constant: the multi-label
        # classifier cannot learn a column with one class, so those columns are set aside.
        self.constant_ = {
            k: float(outcomes[0, k]) for k in range(outcomes.shape[1])
            if np.ptp(outcomes[:, k]) == 0
        }
        self.learnt_ = np.asarray(
            [k for k in range(outcomes.shape[1]) if k not in self.constant_], dtype=int
        )
        self.network_ = None
        if self.learnt_.size:
            head = MLPClassifier(**kwargs) if binary else MLPRegressor(**kwargs)
            target = outcomes[:, self.learnt_]
            if binary:
                # One column is a plain binary problem; several are multi-label.
                target = target.astype(int).ravel() if target.shape[1] == 1 else target.astype(int)
            self.network_ = make_pipeline(StandardScaler(), head).fit(Z, target)
        return self

    def predict_success_proba(self, X):
        """Predicted probability that each model succeeds, shape (n, n_models)."""
        check_is_fitted(self, "learnt_")
        Z = self._features(X)
        success = np.empty((Z.shape[0], len(self.models_)))
        for k, value in self.constant_.items():
            success[:, k] = value
        if self.network_ is not None:
            head = self.network_[-1]
            if hasattr(head, "predict_proba"):
                pred = self.network_.predict_proba(Z)
                if self.learnt_.size == 1:
                    pred = pred[:, 1]  # binary: the probability of class 1
            else:
                pred = self.network_.predict(Z)
            success[:, self.learnt_] = np.asarray(pred).reshape(Z.shape[0], -1)
        return np.clip(success, 0.0, 1.0)


class WinRateRouter(_EmbeddingRouter):
    """RouteLLM's router: call the strong model when a classifier says it is needed.

    A classifier on prompt embeddings predicts the probability that the strong model is
    needed, and the prompt goes to the strong model when that score exceeds a threshold. The
    threshold is calibrated on cross-fitted (out-of-fold) scores of the training prompts so
    that a share ``strong_share`` of them would go to the strong model, which is how RouteLLM
    states its operating points ("x% of calls to GPT-4").

    RouteLLM routes between two models. On a longer ladder, the weak model is the cheapest
    and the strong model the most expensive; the models in between are never called. This
    is the peer as published, and shows what a ladder adds.

    Parameters
    ----------
    embedder : transformer, default=None
        None means :class:`~skcomplexity.SentenceEmbedder`; ignored for numeric ``X``.
    models : list of str
    costs : array-like of shape (n_models,)
    classifier : classifier, default=None
        Needs ``predict_proba``; None means a logistic regression on the embeddings, a light
        stand-in for RouteLLM's BERT classifier (a classification head on a text encoder).
    label : {"strong_wins", "weak_fails"}, default="strong_wins"
        What the classifier learns. ``"strong_wins"``: the strong model succeeds where the weak
        one fails, RouteLLM's win label with ties given to the weak model. ``"weak_fails"``:
        the weak model fails, whatever the strong one does.
    strong_share : float, default=0.5
        Share of the training prompts the calibrated threshold sends to the strong model.
    success_threshold : float, default=0.5
        Pass rate at which a model counts as succeeding.
    cv : int, default=5
        Folds of the cross-fitting that calibrates the threshold.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    classifier_ : classifier
        Fitted on all training prompts.
    oof_scores_ : ndarray of shape (n_samples,)
        Cross-fitted scores of the training prompts, from which thresholds are read.
    threshold_ : float
        Score above which a prompt goes to the strong model.
    weak_index_, strong_index_ : int
        Positions of the weak and strong model in ``models``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcomplexity.peers import WinRateRouter
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(0, 1, (20, 2)), rng.normal(3, 1, (20, 2))]
    >>> Y = np.r_[np.tile([1, 1], (20, 1)), np.tile([0, 1], (20, 1))]
    >>> router = WinRateRouter(models=["weak", "strong"], costs=[1, 10], strong_share=0.5,
    ...                        random_state=0).fit(X, Y)
    >>> router.predict([[0, 0], [3, 3]])
    array(['weak', 'strong'], dtype=object)
    """

    _parameter_constraints = {
        "embedder": [HasMethods(["fit", "transform"]), None],
        "models": ["array-like"],
        "costs": ["array-like"],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "label": [StrOptions({"strong_wins", "weak_fails"})],
        "strong_share": [Interval(numbers.Real, 0, 1, closed="both")],
        "success_threshold": [Interval(numbers.Real, 0, 1, closed="right")],
        "cv": [Interval(numbers.Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        embedder=None,
        *,
        models=None,
        costs=None,
        classifier=None,
        label="strong_wins",
        strong_share=0.5,
        success_threshold=0.5,
        cv=5,
        random_state=None,
    ):
        self.embedder = embedder
        self.models = models
        self.costs = costs
        self.classifier = classifier
        self.label = label
        self.strong_share = strong_share
        self.success_threshold = success_threshold
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, Y):
        """Fit the classifier and calibrate the threshold on cross-fitted scores.

        Parameters
        ----------
        X : sequence of str, or array-like of shape (n_samples, n_features)
        Y : array-like of shape (n_samples, n_models)

        Returns
        -------
        self : WinRateRouter
        """
        Z, outcomes = self._fit_features_and_outcomes(X, Y)
        self.weak_index_, self.strong_index_ = 0, len(self.models_) - 1
        ok = outcomes >= self.success_threshold
        weak_fails = ~ok[:, self.weak_index_]
        y = weak_fails & ok[:, self.strong_index_] if self.label == "strong_wins" else weak_fails
        y = y.astype(int)
        classifier = (
            LogisticRegression(C=1.0, max_iter=2000) if self.classifier is None else self.classifier
        )
        self.classifier_ = None
        if np.unique(y).size < 2:
            # Nothing to learn: every prompt gets the same score, the label's frequency.
            self.oof_scores_ = np.full(len(y), float(y.mean()))
        else:
            self.classifier_ = clone(classifier).fit(Z, y)
            _, counts = np.unique(y, return_counts=True)
            n_splits = int(min(self.cv, len(y)))
            seed = self.random_state if not hasattr(self.random_state, "randint") else (
                self.random_state.randint(np.iinfo(np.int32).max)
            )
            # Stratify when the rarer label can appear in every fold.
            splitter = (
                StratifiedKFold(n_splits, shuffle=True, random_state=seed)
                if counts.min() >= n_splits
                else KFold(n_splits, shuffle=True, random_state=seed)
            )
            self.oof_scores_ = _positive_scores(
                cross_val_predict(clone(classifier), Z, y, cv=splitter, method="predict_proba"),
                y,
            )
        self.threshold_ = self._threshold(self.strong_share)
        return self

    def _threshold(self, share):
        # Strictly above the (1 - share) quantile of the out-of-fold scores. The two ends are
        # exact on any prompts, not only the training ones: a share of 0 never calls the
        # strong model, a share of 1 always does.
        if share <= 0:
            return np.inf
        if share >= 1:
            return -np.inf
        return float(np.quantile(self.oof_scores_, 1.0 - share))

    def decision_function(self, X):
        """Score that the strong model is needed (the classifier's probability)."""
        check_is_fitted(self, "oof_scores_")
        Z = self._features(X)
        if self.classifier_ is None:
            return np.full(Z.shape[0], self.oof_scores_[0])
        proba = self.classifier_.predict_proba(Z)
        return proba[:, list(self.classifier_.classes_).index(1)]

    def _route(self, scores, threshold):
        return np.where(scores > threshold, self.strong_index_, self.weak_index_)

    def predict_index(self, X):
        """Strong model where the score exceeds ``threshold_``, else the weak one."""
        return self._route(self.decision_function(X), self.threshold_)

    def sweep(self, X, strong_shares=None):
        """Routes for a range of target shares of strong calls, from one scoring pass.

        Parameters
        ----------
        X : prompts or embeddings
        strong_shares : array-like, default=None
            Targets in [0, 1]; None means 41 evenly spaced shares.

        Returns
        -------
        strong_shares : ndarray of shape (n_points,)
        routes : ndarray of shape (n_points, n_samples)
        """
        shares = _STRONG_SHARES if strong_shares is None else np.asarray(strong_shares, float)
        scores = self.decision_function(X)
        return shares, np.vstack([self._route(scores, self._threshold(s)) for s in shares])


def _positive_scores(proba, y):
    """Column of the positive label in out-of-fold probabilities (classes sorted: 0, 1)."""
    return proba[:, list(np.unique(y)).index(1)]
