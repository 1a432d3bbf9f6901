"""How good a routing is: accuracy, cost, savings, APGR, CPT, AIQ, and scorers.

Every function reads an *outcome matrix* ``outcomes`` of shape (n_prompts, n_models) (0/1 or
pass rates, columns in ladder order) and *routes*, one model per prompt as an index into the
ladder or a model name.

APGR and CPT follow RouteLLM (Ong et al., 2024), generalised from a strong/weak pair to a
ladder by measuring spend as the normalised cost ``(c - c_weak) / (c_strong - c_weak)``,
which for two models is exactly the share of calls to the strong model. AIQ follows
RouterBench (Hu et al., 2024).
"""

from __future__ import annotations

import numpy as np

from ._ladder import routes_to_indices
from .labels import check_outcomes

__all__ = [
    "routed_accuracy",
    "mean_cost",
    "total_cost",
    "savings",
    "performance_gap_recovered",
    "apgr",
    "cpt",
    "aiq",
    "cost_accuracy_points",
    "make_routing_scorer",
]


def _indices(routes, n_models, models=None):
    if models is not None:
        return routes_to_indices(routes, list(models))
    idx = np.asarray(routes)
    if idx.dtype.kind not in "iu":
        raise ValueError("routes are model names; pass `models` to map them to columns.")
    if idx.size and (idx.min() < 0 or idx.max() >= n_models):
        raise ValueError(f"route indices must lie in [0, {n_models - 1}].")
    return idx.astype(int)


def routed_accuracy(outcomes, routes, *, models=None):
    """Mean outcome of the model each prompt was routed to.

    Parameters
    ----------
    outcomes : array-like of shape (n_prompts, n_models)
    routes : array-like of shape (n_prompts,)
        Model indices, or names when ``models`` is given.
    models : sequence of str, default=None

    Examples
    --------
    >>> routed_accuracy([[1, 1], [0, 1], [0, 0]], [0, 1, 0])
    0.666...
    """
    out = check_outcomes(outcomes, name="outcomes")
    idx = _indices(routes, out.shape[1], models)
    if len(idx) != out.shape[0]:
        raise ValueError(f"{len(idx)} routes for {out.shape[0]} prompts.")
    return float(out[np.arange(len(idx)), idx].mean())


def _route_costs(costs, routes, models):
    costs = np.asarray(costs, dtype=float)
    if np.any(costs < 0):
        raise ValueError("costs must be non-negative.")
    n_models = costs.shape[-1]
    idx = _indices(routes, n_models, models)
    if costs.ndim == 1:
        return costs[idx]
    if costs.shape[0] != len(idx):
        raise ValueError(f"per-prompt costs have {costs.shape[0]} rows for {len(idx)} routes.")
    return costs[np.arange(len(idx)), idx]


def mean_cost(costs, routes, *, models=None):
    """Mean cost per prompt of a routing.

    ``costs`` is one cost per model (n_models,) or the cost each model actually incurred on
    each prompt (n_prompts, n_models), as RouterBench records it.

    Examples
    --------
    >>> mean_cost([1, 10, 100], [0, 0, 2, 1])
    28.0
    """
    return float(_route_costs(costs, routes, models).mean())


def total_cost(costs, routes, *, models=None):
    """Total cost of a routing (see :func:`mean_cost`).

    Examples
    --------
    >>> total_cost([1, 10, 100], [0, 0, 2, 1])
    112.0
    """
    return float(_route_costs(costs, routes, models).sum())


def savings(cost, reference_cost):
    """Share of the reference's cost saved: ``1 - cost / reference_cost``.

    Examples
    --------
    >>> savings(10.0, 100.0)
    0.9
    """
    if reference_cost <= 0:
        raise ValueError("reference_cost must be positive.")
    return float(1.0 - cost / reference_cost)


def performance_gap_recovered(accuracy, weak_accuracy, strong_accuracy):
    """PGR = (accuracy - weak) / (strong - weak), RouteLLM's per-point measure.

    Examples
    --------
    >>> performance_gap_recovered(0.6, 0.5, 0.7)
    0.5
    """
    gap = strong_accuracy - weak_accuracy
    if gap == 0:
        raise ValueError("the strong and weak models have the same accuracy; PGR is undefined.")
    return float((np.asarray(accuracy) - weak_accuracy) / gap) if np.ndim(accuracy) == 0 else (
        (np.asarray(accuracy, float) - weak_accuracy) / gap
    )


def _curve(costs, accuracies, weak_cost, strong_cost):
    costs = np.asarray(costs, float)
    accuracies = np.asarray(accuracies, float)
    if costs.shape != accuracies.shape or costs.ndim != 1 or costs.size < 2:
        raise ValueError("costs and accuracies must be 1-D of the same length (>= 2 points).")
    if strong_cost <= weak_cost:
        raise ValueError("strong_cost must exceed weak_cost.")
    x = np.clip((costs - weak_cost) / (strong_cost - weak_cost), 0.0, 1.0)
    order = np.lexsort((accuracies, x))
    return x[order], accuracies[order]


def apgr(costs, accuracies, *, weak, strong):
    """Average performance gap recovered over a router's sweep (RouteLLM).

    The area under the accuracy curve over normalised spend, relative to the areas of the
    weak and the strong model over the same span: 0 is no better than the weak model, 1 as
    good as the strong one everywhere, above 1 better than the strong model.

    Parameters
    ----------
    costs, accuracies : array-like of shape (n_points,)
        Mean cost and accuracy of each point of the router's sweep.
    weak, strong : tuple of (cost, accuracy)
        The cheap and the expensive reference model.

    Examples
    --------
    >>> apgr([1, 50, 100], [0.5, 0.65, 0.7], weak=(1, 0.5), strong=(100, 0.7))
    0.62...
    """
    x, acc = _curve(costs, accuracies, weak[0], strong[0])
    span = x[-1] - x[0]
    if span == 0:
        raise ValueError("the sweep spends the same at every point; APGR needs a range of costs.")
    area = np.trapezoid(acc, x)
    return float((area - weak[1] * span) / ((strong[1] - weak[1]) * span))


def cpt(costs, accuracies, *, weak, strong, pgr=0.5):
    """Call-performance threshold (RouteLLM): the normalised spend needed to reach ``pgr``.

    The smallest spend (share of strong calls for two models) at which the sweep recovers
    ``pgr`` of the gap between the weak and strong models, interpolated linearly along the
    curve's running best. Returns ``nan`` when the sweep never gets there.

    Examples
    --------
    >>> cpt([1, 50, 100], [0.5, 0.65, 0.7], weak=(1, 0.5), strong=(100, 0.7), pgr=0.5)
    0.33...
    """
    x, acc = _curve(costs, accuracies, weak[0], strong[0])
    target = weak[1] + pgr * (strong[1] - weak[1])
    best = np.maximum.accumulate(acc)
    hit = np.flatnonzero(best >= target)
    if hit.size == 0:
        return float("nan")
    j = hit[0]
    if j == 0 or best[j] == best[j - 1]:
        return float(x[j])
    return float(x[j - 1] + (target - best[j - 1]) * (x[j] - x[j - 1]) / (best[j] - best[j - 1]))


def _upper_hull(x, y):
    """Upper convex hull of points sorted by x (monotone chain)."""
    hull = []
    for p in zip(x, y):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return np.asarray(hull)


def aiq(costs, accuracies):
    """Average improvement in quality (RouterBench).

    The area under the non-decreasing convex hull of the (cost, accuracy) points, divided by
    the cost range, so that it reads as an accuracy averaged over the costs spanned.

    Examples
    --------
    >>> aiq([0, 1, 2], [0.5, 0.9, 0.6])
    0.8
    """
    costs = np.asarray(costs, float)
    acc = np.asarray(accuracies, float)
    if costs.shape != acc.shape or costs.ndim != 1 or costs.size < 2:
        raise ValueError("costs and accuracies must be 1-D of the same length (>= 2 points).")
    order = np.lexsort((acc, costs))
    hull = _upper_hull(costs[order], acc[order])
    hx, hy = hull[:, 0], np.maximum.accumulate(hull[:, 1])
    lo, hi = costs.min(), costs.max()
    if hi == lo:
        raise ValueError("all points have the same cost; AIQ needs a range of costs.")
    # After the hull's best point, spending more buys nothing: the curve stays flat.
    hx = np.append(hx, hi) if hx[-1] < hi else hx
    hy = np.append(hy, hy[-1]) if len(hy) < len(hx) else hy
    return float(np.trapezoid(hy, hx) / (hi - lo))


def cost_accuracy_points(outcomes, routes_list, costs, *, models=None):
    """Mean cost and routed accuracy for each routing of a sweep.

    Parameters
    ----------
    outcomes : array-like of shape (n_prompts, n_models)
    routes_list : array-like of shape (n_points, n_prompts)
    costs : array-like of shape (n_models,) or (n_prompts, n_models)

    Returns
    -------
    mean_costs, accuracies : ndarray of shape (n_points,)

    Examples
    --------
    >>> cost_accuracy_points([[1, 1], [0, 1]], [[0, 0], [0, 1]], [1, 10])
    (array([1. , 5.5]), array([0.5, 1. ]))
    """
    pts = [(mean_cost(costs, r, models=models), routed_accuracy(outcomes, r, models=models))
           for r in routes_list]
    arr = np.asarray(pts, float)
    return arr[:, 0], arr[:, 1]


def make_routing_scorer(metric="accuracy", *, cost_weight=None, budget=None, costs=None):
    """A scorer for ``GridSearchCV`` that reads the outcome matrix passed as ``y``.

    Parameters
    ----------
    metric : {"accuracy", "cost", "utility"}, default="accuracy"
        * ``"accuracy"``: routed accuracy.
        * ``"cost"``: minus the mean cost (greater is better).
        * ``"utility"``: accuracy minus ``cost_weight`` times mean cost divided by the
          largest model cost.
    cost_weight : float, default=None
        Needed by ``"utility"``.
    budget : float, default=None
        When given, a routing whose mean cost exceeds it scores ``-inf`` (any metric), so a
        search keeps only candidates that respect the budget.
    costs : array-like of shape (n_models,), default=None
        Cost per model; defaults to the router's fitted ``costs_``.

    Returns
    -------
    scorer : callable ``scorer(router, X, Y) -> float``

    Examples
    --------
    >>> scorer = make_routing_scorer("utility", cost_weight=0.5)
    >>> callable(scorer)
    True
    """
    if metric not in ("accuracy", "cost", "utility"):
        raise ValueError(f"metric must be 'accuracy', 'cost' or 'utility', got {metric!r}.")
    if metric == "utility" and cost_weight is None:
        raise ValueError("metric='utility' needs cost_weight.")

    def scorer(router, X, Y):
        # A router may be the last step of a Pipeline: predict through the whole pipeline,
        # read the ladder from the router itself.
        final = router[-1] if hasattr(router, "steps") else router
        idx = routes_to_indices(router.predict(X), list(final.models_))
        model_costs = np.asarray(final.costs_ if costs is None else costs, float)
        spent = model_costs[idx].mean()
        if budget is not None and spent > budget:
            return -np.inf
        if metric == "cost":
            return -float(spent)
        acc = routed_accuracy(Y, idx)
        if metric == "accuracy":
            return acc
        return float(acc - cost_weight * spent / model_costs.max())

    scorer.__name__ = f"routing_{metric}"
    return scorer
