"""Cross-validated evaluation of routers, with bootstrap intervals, and the package's main job.

:func:`evaluate_routers` fits a clone of each router on each training fold, routes the
held-out prompts, pools the out-of-fold routes over all prompts, and reports accuracy, cost,
savings against a reference model, APGR and AIQ, each with a bootstrap interval over prompts.
The same function serves the main job (:func:`main`, ``skcomplexity evaluate``) and the
benchmarks in ``benchmarks/``.

Run the main job with ``python -m skcomplexity.evaluation --help``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils import _safe_indexing, check_random_state

from .baselines import OracleRouter, RandomRouter, SingleModelRouter
from .labels import check_outcomes, cheapest_capable_levels
from .metrics import aiq, apgr

__all__ = [
    "PAPER_LADDER",
    "ZERO_ROUTER",
    "cross_val_routes",
    "evaluate_routers",
    "format_results",
    "plot_results",
    "main",
]

#: The ladder of ComplexityNet (Bae et al., 2023), as RouterBench names its models.
PAPER_LADDER = ["meta/code-llama-instruct-34b-chat", "gpt-3.5-turbo-1106", "gpt-4-1106-preview"]

_METRICS = ("accuracy", "cost", "savings", "apgr", "aiq")

#: Row of RouterBench's "zero router": no learning, the single models and random mixes of
#: them. Its APGR and AIQ are what a learnt router's must beat.
ZERO_ROUTER = "zero router (mixes of single models)"


# --------------------------------------------------------------------------- routing
def _folds(Y, cv, random_state):
    """Shuffled folds, stratified on cheapest-capable levels when every level can be."""
    if not isinstance(cv, (int, np.integer)):
        return list(cv.split(np.zeros(len(Y)), cheapest_capable_levels(Y)))
    levels = cheapest_capable_levels(Y)
    _, counts = np.unique(levels, return_counts=True)
    # Stratifying keeps the rare hard levels in every fold, which steadies the estimates;
    # with a level rarer than the number of folds, plain shuffled folds are the fallback.
    splitter = (
        StratifiedKFold(cv, shuffle=True, random_state=random_state)
        if counts.min() >= cv
        else KFold(cv, shuffle=True, random_state=random_state)
    )
    return list(splitter.split(np.zeros(len(Y)), levels))


def _assignment(router, X, Y, n_models):
    """(n, K) weights of each model per prompt: one-hot routes, or a random router's coin."""
    if isinstance(router, RandomRouter):
        # The expectation over the coin, rather than one draw of it: the baseline's accuracy
        # then carries no noise of its own, only the prompts' (which the bootstrap measures).
        return np.tile(router.probabilities_, (_num_samples(X), 1))
    oracle = isinstance(router, OracleRouter)
    idx = router.predict_index(X, Y) if oracle else router.predict_index(X)
    return np.eye(n_models)[idx]


def cross_val_routes(router, X, Y, *, cv=5, random_state=0, sweep=True, test=None):
    """Out-of-fold routes of a router, pooled over all prompts.

    Parameters
    ----------
    router : router
        Cloned and fitted on each training fold (``fit(X, Y)``).
    X : prompts or array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_models)
        Outcomes, columns in the router's ladder order.
    cv : int or cross-validation splitter, default=5
    random_state : int, default=0
        Seed of the folds.
    sweep : bool, default=True
        Also collect the routes of the router's ``sweep`` (when it has one).
    test : tuple (X_test, Y_test), default=None
        Fit once on ``X, Y`` and route ``X_test`` instead of cross-validating.

    Returns
    -------
    assignment : ndarray of shape (n_routed, n_models)
        Weight of each model for each routed prompt (one-hot for deterministic routers).
    sweep_routes : ndarray of shape (n_points, n_routed) or None
        Model indices along the router's sweep; the parameter grid is the router's default,
        the same in every fold, so points can be pooled across folds.

    Examples
    --------
    >>> from skcomplexity import SingleModelRouter
    >>> a, s = cross_val_routes(SingleModelRouter(models=["a", "b"], costs=[1, 2]),
    ...                         [[0], [1], [2], [3]], [[1, 1], [0, 1], [1, 0], [0, 0]], cv=2)
    >>> a
    array([[0., 1.],
           [0., 1.],
           [0., 1.],
           [0., 1.]])
    """
    Y = check_outcomes(Y, name="Y")
    n_models = Y.shape[1]
    if test is not None:
        X_test, Y_test = test
        Y_test = check_outcomes(Y_test, n_models=n_models, name="Y_test")
        tasks = [(X, Y, X_test, Y_test, np.arange(len(Y_test)))]
        n_routed = len(Y_test)
    else:
        tasks = [
            (_safe_indexing(X, tr), Y[tr], _safe_indexing(X, te), Y[te], te)
            for tr, te in _folds(Y, cv, random_state)
        ]
        n_routed = len(Y)
    assignment = np.zeros((n_routed, n_models))
    sweep_routes = None
    for X_tr, Y_tr, X_te, Y_te, index in tasks:
        fitted = clone(router).fit(X_tr, Y_tr)
        assignment[index] = _assignment(fitted, X_te, Y_te, n_models)
        if sweep and hasattr(fitted, "sweep"):
            _, routes = fitted.sweep(X_te)
            if sweep_routes is None:
                sweep_routes = np.zeros((routes.shape[0], n_routed), dtype=int)
            sweep_routes[:, index] = routes
    return assignment, sweep_routes


# ------------------------------------------------------------------------ metrics
def _curve_points(costs, accuracies, low, high_cost):
    """A sweep's points, completed so that routers' curves span the same costs.

    Every router can send all prompts to the cheapest model, so that point ``low`` is added;
    beyond a sweep's most expensive point, spending more buys nothing, so the curve is
    extended flat to ``high_cost`` (RouterBench's convention for AIQ). Without this, a
    router whose sweep spans a narrow range would be averaged over a different range.
    """
    i = int(np.argmax(accuracies))
    c = np.r_[low[0], costs, max(high_cost, costs.max())]
    a = np.r_[low[1], accuracies, accuracies[i]]
    return c, a


def _sweep_scores(costs, accuracies, weak, strong):
    c, a = _curve_points(costs, accuracies, weak, strong[0])
    try:
        # A resample where the weak and strong models tie makes APGR 0/0: NaN, left out.
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = apgr(c, a, weak=weak, strong=strong)
    except ValueError:
        gap = np.nan
    try:
        quality = aiq(c, a)
    except ValueError:
        quality = np.nan
    return gap, quality


def _interval(samples, confidence):
    tail = 100 * (1 - confidence) / 2
    samples = np.asarray(samples, float)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return np.nan, np.nan
    return tuple(np.percentile(samples, [tail, 100 - tail]))


def evaluate_routers(
    routers,
    X,
    Y,
    costs,
    *,
    models=None,
    cv=5,
    random_state=0,
    n_bootstraps=1000,
    confidence=0.95,
    reference=-1,
    sweep=True,
    baselines=True,
    match_random_to=None,
    compare_to=None,
    test=None,
    n_jobs=None,
):
    """Cross-validate routers and report accuracy, cost, savings, APGR and AIQ with intervals.

    Each router is cloned and fitted on each training fold; its routes on the held-out fold
    are pooled over all prompts, so every number is out-of-fold. Intervals are percentile
    bootstrap intervals over prompts, with the same resamples for every router (so that
    differences between rows are paired).

    Parameters
    ----------
    routers : dict of str -> router
        Routers to evaluate, by row name. Each takes ``fit(X, Y)`` with ``Y`` the outcomes.
    X : prompts or array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_models)
        Outcomes, models in ladder order (cheapest first).
    costs : array-like of shape (n_models,) or (n_samples, n_models)
        Cost of each model, or what each model actually cost on each prompt (RouterBench);
        used to measure the routes. Routers carry their own ``costs`` for routing.
    models : list of str, default=None
        Model names, for the baseline rows; None names them ``model 0``, ``model 1``...
    cv : int or cross-validation splitter, default=5
    random_state : int, default=0
        Seed of the folds and of the bootstrap.
    n_bootstraps : int, default=1000
        Resamples of the prompts; 0 skips intervals.
    confidence : float, default=0.95
    reference : int, default=-1
        Ladder position of the reference model for savings and of the strong model for APGR
        (the weak model is the cheapest).
    sweep : bool or collection of str, default=True
        Compute APGR and AIQ from the pooled out-of-fold sweep of routers that have
        ``sweep`` (all of them, or those named); other rows get NaN.
    baselines : bool, default=True
        Add rows for always-each-model, the oracle (cheapest model that succeeded, an upper
        bound), RouterBench's zero router (:data:`ZERO_ROUTER`: APGR and AIQ of random
        mixes of single models, when ``sweep`` is not False) and a random router when
        ``match_random_to`` is given.
    match_random_to : str, default=None
        Name of a router whose out-of-fold mean cost (in its own cost unit) the random
        baseline spends; its accuracy is the exact expectation over the coin.
    compare_to : str, default=None
        Name of a row; adds ``delta_accuracy``, ``delta_savings`` and ``delta_aiq`` (row
        minus it) with paired bootstrap intervals.
    test : tuple (X_test, Y_test, costs_test), default=None
        Fit on ``X, Y`` once and measure on this set instead of cross-validating.
    n_jobs : int, default=None
        Routers evaluated in parallel threads (fitting releases the GIL; threads share the
        in-process embedding cache, processes would not).

    Returns
    -------
    results : pandas.DataFrame
        One row per router; columns ``accuracy``, ``cost``, ``savings``, ``apgr``, ``aiq``,
        each with ``_low`` and ``_high`` interval bounds (and the ``delta_*`` columns).
        ``results.attrs`` holds ``"curves"`` (row -> (costs, accuracies) of its pooled sweep),
        ``"models"``, ``"reference"`` and ``"n_prompts"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcomplexity import SingleModelRouter
    >>> Y = np.array([[1, 1], [0, 1], [0, 0], [1, 1]])
    >>> res = evaluate_routers({}, np.zeros((4, 1)), Y, [1.0, 10.0], models=["a", "b"],
    ...                        cv=2, n_bootstraps=0)
    >>> res[["accuracy", "cost", "savings", "aiq"]]
                                          accuracy   cost  savings    aiq
    always a                                  0.50   1.00    0.900    NaN
    always b                                  0.75  10.00    0.000    NaN
    zero router (mixes of single models)       NaN    NaN      NaN  0.625
    oracle                                    0.75   3.25    0.675    NaN
    """
    import pandas as pd

    Y = check_outcomes(Y, name="Y")
    n_models = Y.shape[1]
    names = list(models) if models is not None else [f"model {k}" for k in range(n_models)]
    if len(names) != n_models:
        raise ValueError(f"{len(names)} model names for {n_models} outcome columns.")
    costs = np.asarray(costs, float)
    if test is not None:
        X_test, Y_test, eval_costs = test
        Y_eval = check_outcomes(Y_test, n_models=n_models, name="Y_test")
        eval_costs = np.asarray(eval_costs, float)
        split = (X_test, Y_eval)
    else:
        Y_eval, eval_costs, split = Y, costs, None
    n = len(Y_eval)
    prompt_costs = eval_costs if eval_costs.ndim == 2 else np.tile(eval_costs, (n, 1))
    if prompt_costs.shape != Y_eval.shape:
        raise ValueError(f"costs have shape {prompt_costs.shape}; outcomes have {Y_eval.shape}.")
    # Ladder costs for the baselines' routing, in the unit the routers are given.
    ladder_costs = costs.mean(axis=0) if costs.ndim == 2 else costs
    ref = reference % n_models

    candidates = {}
    if baselines:
        for k, m in enumerate(names):
            candidates[f"always {m}"] = SingleModelRouter(models=names, costs=ladder_costs, model=m)
    candidates.update(routers)
    if baselines:
        candidates["oracle"] = OracleRouter(models=names, costs=ladder_costs)

    def run(name, router):
        traced = sweep if isinstance(sweep, bool) else name in sweep
        with warnings.catch_warnings():
            # Rare levels missing from a fold are expected on a few hundred prompts; the
            # routers handle them, and the warnings would drown the report.
            warnings.simplefilter("ignore", UserWarning)
            warnings.filterwarnings("ignore", message="Number of classes in training fold")
            return cross_val_routes(
                router, X, Y, cv=cv, random_state=random_state, sweep=traced, test=split
            )

    if n_jobs is not None and n_jobs != 1:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(run)(name, r) for name, r in candidates.items()
        )
    else:
        outputs = [run(name, r) for name, r in candidates.items()]
    routed = dict(zip(candidates, outputs))

    if baselines and match_random_to is not None:
        if match_random_to not in routed:
            raise ValueError(f"match_random_to={match_random_to!r} is not a router name.")
        target = candidates[match_random_to]
        own = target.get_params().get("costs") if hasattr(target, "get_params") else None
        unit_costs = np.asarray(ladder_costs if own is None else own, float)
        spent = float((routed[match_random_to][0] @ unit_costs).mean())
        coin = RandomRouter(models=names, costs=unit_costs, target_cost=spent).fit(X)
        name = f"random (cost of {match_random_to})"
        routed[name] = (np.tile(coin.probabilities_, (n, 1)), None)
    if baselines and sweep is not False:
        # A "sweep" through the single models: AIQ's hull and APGR's interpolation between
        # them are exactly what mixing models at random achieves.
        routed[ZERO_ROUTER] = (None, np.repeat(np.arange(n_models)[:, None], n, axis=1))
    # Keep the oracle, the upper bound, last.
    if "oracle" in routed:
        routed["oracle"] = routed.pop("oracle")

    rng = check_random_state(random_state)
    # Multinomial counts: resample b weights prompt i by counts[b, i]; the same for all rows.
    counts = (
        rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstraps).T / n
        if n_bootstraps
        else np.zeros((n, 0))
    )
    ref_cost = prompt_costs[:, ref]
    weak = (prompt_costs[:, 0].mean(), Y_eval[:, 0].mean())
    strong = (ref_cost.mean(), Y_eval[:, ref].mean())
    weak_boot = (prompt_costs[:, 0] @ counts, Y_eval[:, 0] @ counts)
    strong_boot = (ref_cost @ counts, Y_eval[:, ref] @ counts)
    ref_boot = strong_boot[0]

    rows, curves, per_prompt, resampled = {}, {}, {}, {}
    for name, (assignment, sweep_routes) in routed.items():
        row = dict.fromkeys(_METRICS, np.nan)
        boot = {}
        if assignment is not None:
            success = (assignment * Y_eval).sum(axis=1)
            spent = (assignment * prompt_costs).sum(axis=1)
            per_prompt[name] = (success, spent)
            row.update(
                accuracy=success.mean(),
                cost=spent.mean(),
                savings=1.0 - spent.mean() / ref_cost.mean(),
            )
            boot = {
                "accuracy": success @ counts,
                "cost": spent @ counts,
                "savings": 1.0 - (spent @ counts) / ref_boot,
            }
        if sweep_routes is not None:
            rows_idx = np.arange(n)[None, :]
            s_succ = Y_eval[rows_idx, sweep_routes]  # (n_points, n)
            s_cost = prompt_costs[rows_idx, sweep_routes]
            c, a = s_cost.mean(axis=1), s_succ.mean(axis=1)
            curves[name] = (c, a)
            row["apgr"], row["aiq"] = _sweep_scores(c, a, weak, strong)
            if n_bootstraps:
                cb, ab = s_cost @ counts, s_succ @ counts
                scores = np.asarray(
                    [
                        _sweep_scores(
                            cb[:, b], ab[:, b],
                            (weak_boot[0][b], weak_boot[1][b]),
                            (strong_boot[0][b], strong_boot[1][b]),
                        )
                        for b in range(n_bootstraps)
                    ]
                )
                boot["apgr"], boot["aiq"] = scores[:, 0], scores[:, 1]
        for metric in _METRICS:
            low, high = _interval(boot[metric], confidence) if metric in boot else (np.nan, np.nan)
            row[f"{metric}_low"], row[f"{metric}_high"] = low, high
        rows[name] = row
        resampled[name] = boot

    if compare_to is not None:
        if compare_to not in per_prompt:
            raise ValueError(f"compare_to={compare_to!r} is not a row name.")
        base_success, base_spent = per_prompt[compare_to]
        for name, (success, spent) in per_prompt.items():
            d_acc = success - base_success
            d_sav = (base_spent - spent) / ref_cost.mean()
            rows[name]["delta_accuracy"] = d_acc.mean()
            rows[name]["delta_accuracy_low"], rows[name]["delta_accuracy_high"] = _interval(
                d_acc @ counts, confidence
            )
            # Savings are against the reference's cost in the same resample (paired).
            rows[name]["delta_savings"] = d_sav.mean()
            rows[name]["delta_savings_low"], rows[name]["delta_savings_high"] = _interval(
                (base_spent - spent) @ counts / ref_boot, confidence
            )
        for name in rows:
            # AIQ differences between two swept routers, on the same resamples (paired).
            d_aiq = rows[name]["aiq"] - rows[compare_to]["aiq"]
            rows[name]["delta_aiq"] = d_aiq
            both = "aiq" in resampled[name] and "aiq" in resampled[compare_to]
            rows[name]["delta_aiq_low"], rows[name]["delta_aiq_high"] = (
                _interval(resampled[name]["aiq"] - resampled[compare_to]["aiq"], confidence)
                if both and np.isfinite(d_aiq)
                else (np.nan, np.nan)
            )

    order = [f"{m}{s}" for m in _METRICS for s in ("", "_low", "_high")]
    if compare_to is not None:
        order += [
            f"delta_{m}{s}" for m in ("accuracy", "savings", "aiq") for s in ("", "_low", "_high")
        ]
    results = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=order)
    results.attrs.update(
        curves=curves,
        models=names,
        reference=names[ref],
        n_prompts=n,
        confidence=confidence,
        compare_to=compare_to,
    )
    return results


# --------------------------------------------------------------------- reporting
def _cell(value, low=np.nan, high=np.nan, digits=3, scale=1.0):
    if not np.isfinite(value):
        return "-"
    text = f"{value * scale:.{digits}f}"
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"
    return text


def format_results(results, *, cost_scale=1000.0, cost_label="cost ($/1k prompts)"):
    """The results of :func:`evaluate_routers` as a Markdown table, intervals in brackets.

    Parameters
    ----------
    results : pandas.DataFrame
    cost_scale : float, default=1000.0
        Costs are multiplied by this (dollars per prompt -> dollars per 1,000 prompts).
    cost_label : str, default="cost ($/1k prompts)"

    Returns
    -------
    table : str

    Examples
    --------
    >>> import numpy as np
    >>> res = evaluate_routers({}, np.zeros((4, 1)), [[1, 1], [0, 1], [0, 0], [1, 1]],
    ...                        [1.0, 10.0], models=["a", "b"], cv=2, n_bootstraps=0)
    >>> print(format_results(res, cost_scale=1, cost_label="cost").splitlines()[2])
    | always a | 0.500 | 1.000 | 90.0% | - | - |
    """
    reference = results.attrs.get("reference", "the reference")
    header = ["router", "accuracy", cost_label, f"savings vs {reference}", "APGR", "AIQ"]
    compare = results.attrs.get("compare_to")
    if compare is not None:
        header += [f"Δ accuracy vs {compare}", f"Δ AIQ vs {compare}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, r in results.iterrows():
        cells = [
            str(name),
            _cell(r["accuracy"], r["accuracy_low"], r["accuracy_high"]),
            _cell(r["cost"], r["cost_low"], r["cost_high"], scale=cost_scale),
            _percent(r["savings"], r["savings_low"], r["savings_high"]),
            _cell(r["apgr"], r["apgr_low"], r["apgr_high"], digits=2),
            _cell(r["aiq"], r["aiq_low"], r["aiq_high"]),
        ]
        if compare is not None:
            cells += [
                _cell(r["delta_accuracy"], r["delta_accuracy_low"], r["delta_accuracy_high"]),
                _cell(r["delta_aiq"], r["delta_aiq_low"], r["delta_aiq_high"]),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _percent(value, low, high):
    if not np.isfinite(value):
        return "-"
    text = f"{100 * value:.1f}%"
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{100 * low:.1f}, {100 * high:.1f}]"
    return text


def plot_results(results, *, ax=None, routers=None, log_x=True, title=None):
    """Draw each router's pooled sweep, the single models and the oracle on one axes.

    Parameters
    ----------
    results : pandas.DataFrame
        From :func:`evaluate_routers` (its ``attrs["curves"]`` and baseline rows).
    ax : matplotlib Axes, default=None
    routers : list of str, default=None
        Rows to draw (a curve for those with a sweep, a marker for the others); None draws
        every row but the baselines as markers and every sweep as a curve.
    log_x : bool, default=True
    title : str, default=None

    Returns
    -------
    displays : list of :class:`~skcomplexity.plotting.RoutingCurveDisplay`
    """
    from .plotting import RoutingCurveDisplay

    curves = results.attrs["curves"]
    names = [
        n for n in (curves if routers is None else routers) if n in curves and n != ZERO_ROUTER
    ]
    singles = {
        m: (results.loc[f"always {m}", "cost"], results.loc[f"always {m}", "accuracy"])
        for m in results.attrs["models"]
        if f"always {m}" in results.index
    }
    oracle = (
        (results.loc["oracle", "cost"], results.loc["oracle", "accuracy"])
        if "oracle" in results.index
        else None
    )
    displays = []
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    for i, name in enumerate(names):
        c, a = curves[name]
        disp = RoutingCurveDisplay(
            c, a, name=name, single_models=singles if i == 0 else None,
            oracle=oracle if i == 0 else None,
        )
        disp.plot(ax=ax, log_x=log_x)
        ax = disp.ax_
        displays.append(disp)
    if ZERO_ROUTER in curves and (routers is None or ZERO_ROUTER in routers):
        from .plotting import monotone_hull

        hx, hy = monotone_hull(*curves[ZERO_ROUTER])
        # Mixing two models is linear in cost; drawn on many points, the mix stays true on a
        # log-scaled cost axis too.
        grid = np.geomspace(hx[0], hx[-1], 200) if log_x and hx[0] > 0 else hx
        ax.plot(grid, np.interp(grid, hx, hy), color="gray", linestyle=":", linewidth=1.5,
                label=ZERO_ROUTER)
    # Routers without a sweep (fixed strategies, the random baseline) are single points.
    baseline_rows = {f"always {m}" for m in results.attrs["models"]} | {"oracle"}
    markers = iter("sDv^<>pPhX8" * 3)
    for name in results.index:
        if (
            name in curves
            or name in baseline_rows
            or (routers is not None and name not in routers)
        ):
            continue
        ax.plot([results.loc[name, "cost"]], [results.loc[name, "accuracy"]], linestyle="none",
                marker=next(markers), markersize=7, markeredgecolor="black", label=name)
    if ax is not None:
        ax.set_xlabel("mean cost per prompt (US$, as recorded by RouterBench)")
        # Below the axes: inside, a legend this long hides points (the oracle sits high up).
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8,
                  frameon=False)
        if title is not None:
            ax.set_title(title)
    return displays


# ----------------------------------------------------------------------- main job
def _num_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _ladder_routers(models, ladder_costs, reference_cost, *, budgets, random_state, quick):
    """The CostAwareRouter strategies the main job and the routing benchmark compare."""
    from .router import CostAwareRouter

    common = dict(models=models, costs=ladder_costs, random_state=random_state)
    # The budget's inner calibration folds cost one classifier fit each; 3 keep the job short.
    inner_cv = 2 if quick else 3
    routers = {
        "CostAwareRouter mapping": CostAwareRouter(strategy="mapping", **common),
        "CostAwareRouter threshold": CostAwareRouter(strategy="threshold", **common),
        "CostAwareRouter utility": CostAwareRouter(strategy="utility", **common),
    }
    for share in budgets:
        routers[f"CostAwareRouter budget {share:.0%}"] = CostAwareRouter(
            strategy="budget", budget=share * reference_cost, cv=inner_cv, **common
        )
    return routers


#: (file key, heading, models) of the ladders evaluated; None means every model of the file.
_LADDERS = [
    ("paper_ladder", "Paper's ladder: Code Llama 34B, GPT-3.5, GPT-4", PAPER_LADDER),
    ("all_models", "All 11 RouterBench models", None),
]


def _parser(prog, description):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"),
                        help="folder for the Markdown tables and the PNG (default: %(default)s)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--test", default=None, metavar="FILE",
                        help="a RouterBench-format file: train on the train split, score on it")
    parser.add_argument("--train", default=None, metavar="FILE",
                        help="training table (default: RouterBench MBPP train in the data home)")
    parser.add_argument("--bootstraps", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2, help="routers evaluated in parallel")
    parser.add_argument("--ladder", choices=("paper", "all", "both"), default="both",
                        help="the paper's three models, all eleven, or both (default)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer folds and resamples, for a smoke run")
    return parser


def _load(path, models, *, sort_by_cost=True):
    from .datasets import load_routerbench

    return load_routerbench(path, models=models, sort_by_cost=sort_by_cost)


def _warm_embeddings(*prompt_lists):
    """Embed every prompt once, so that the folds' refits read the in-process cache."""
    from .embedding import SentenceEmbedder

    texts = [p for prompts in prompt_lists for p in prompts]
    SentenceEmbedder().fit().transform(texts)


def run_ladders(args, extra_routers=None, *, prefix, title):
    """Evaluate the CostAwareRouter strategies (and ``extra_routers``) on both ladders.

    Shared by :func:`main` and ``benchmarks/bench_routing.py``: loads the data, evaluates,
    writes ``<prefix>_<ladder>.md`` and ``<prefix>_cost_accuracy.png`` under ``args.out``,
    prints the tables, and returns ``{ladder: results}``.

    Parameters
    ----------
    args : argparse.Namespace
        From the parser of :func:`main`.
    extra_routers : callable, default=None
        ``extra_routers(models, ladder_costs, random_state) -> dict`` of more rows.
    prefix : str
        File name prefix.
    title : str
        Heading of the Markdown files.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folds = 3 if args.quick else args.folds
    n_boot = min(args.bootstraps, 200) if args.quick else args.bootstraps
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keep = {"paper": ("paper_ladder",), "all": ("all_models",)}.get(
        getattr(args, "ladder", "both"), ("paper_ladder", "all_models")
    )
    ladders = [ladder for ladder in _LADDERS if ladder[0] in keep]
    fig, axes = plt.subplots(1, len(ladders), figsize=(7.5 * len(ladders), 7), squeeze=False)
    all_results = {}
    for (key, heading, models), ax in zip(ladders, axes.ravel()):
        bench = _load(args.train, models)
        # The test table keeps the train split's ladder order: ordering it by its own costs
        # could swap two models of nearly equal price and misalign the outcome columns.
        test = _load(args.test, list(bench.models), sort_by_cost=False) if args.test else None
        _warm_embeddings(bench.prompts, test.prompts if test is not None else [])
        ladder_costs = bench.costs.mean(axis=0)
        budgets = (0.05, 0.2)
        routers = _ladder_routers(
            bench.models, ladder_costs, ladder_costs[-1],
            budgets=budgets, random_state=args.seed, quick=args.quick,
        )
        if extra_routers is not None:
            routers.update(extra_routers(bench.models, ladder_costs, args.seed))
        results = evaluate_routers(
            routers, bench.prompts, bench.outcomes, bench.costs,
            models=bench.models, cv=folds, random_state=args.seed, n_bootstraps=n_boot,
            match_random_to=f"CostAwareRouter budget {budgets[0]:.0%}",
            compare_to="CostAwareRouter utility",
            # CostAwareRouter's sweep varies the utility rule's cost weight over one
            # classifier whatever the strategy, so it is traced once, on the utility row.
            sweep=[n for n in routers if not n.startswith("CostAwareRouter") or "utility" in n],
            test=(test.prompts, test.outcomes, test.costs) if test is not None else None,
            n_jobs=args.n_jobs,
        )
        all_results[key] = results
        scheme = (
            f"trained on {args.train or 'RouterBench MBPP train'}, scored on {args.test}"
            if args.test
            else f"{folds}-fold cross-validation on RouterBench MBPP train (out-of-fold routes)"
        )
        text = (
            f"# {title}: {heading}\n\n"
            f"{results.attrs['n_prompts']} prompts; {scheme}; "
            f"{100 * results.attrs['confidence']:.0f}% bootstrap intervals over prompts "
            f"({n_boot} resamples) in brackets. Costs are what RouterBench recorded per prompt. "
            f"Budgets are shares of always-{bench.models[-1]}'s mean cost. "
            "APGR (RouteLLM) and AIQ (RouterBench) are computed on each router's "
            f"{'held-out' if args.test else 'out-of-fold'} sweep of its cost knob, completed with the always-cheapest point "
            "and extended flat to always-GPT-4's cost; CostAwareRouter's sweep does not "
            "depend on its strategy and is shown on the utility row. The random router "
            "spends what the 5% budget router spends (matched on mean model costs); its "
            "accuracy is the exact expectation over its coin. The zero router (RouterBench) "
            "mixes single models at random: its APGR and AIQ are what learning must beat. "
            "Δ columns are paired (same prompts, same resamples).\n\n"
            + format_results(results) + "\n"
        )
        (out / f"{prefix}_{key}.md").write_text(text)
        print(text)
        plot_results(results, ax=ax, title=heading)
    fig.tight_layout()
    fig.savefig(out / f"{prefix}_cost_accuracy.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {out / f'{prefix}_cost_accuracy.png'}")
    return all_results


def main(argv=None):
    """The main job: how well CostAwareRouter routes RouterBench's MBPP prompts.

    For the paper's ladder (Code Llama 34B, GPT-3.5, GPT-4) and for all 11 RouterBench
    models, cross-validates each ``CostAwareRouter`` strategy against always-each-model, a
    random router spending as much as the 5 % budget router, and the oracle; prints
    Markdown tables (also written to ``<out>/main_*.md``) and draws the cost-accuracy curves
    to ``<out>/main_cost_accuracy.png``.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
    """
    args = _parser(
        "skcomplexity evaluate",
        "Cross-validated routing quality of CostAwareRouter on RouterBench MBPP.",
    ).parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    run_ladders(args, prefix="main", title="CostAwareRouter on RouterBench MBPP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
