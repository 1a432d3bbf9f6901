"""
=================================================
Comparing routers with baselines on RouterBench
=================================================

Is a learnt router worth it? This example cross-validates
:class:`~skcomplexity.CostAwareRouter` against the baselines every router should beat
(always one model, a random router that spends as much) and the peers of
:mod:`skcomplexity.peers` (RouterBench's kNN router, RouteLLM's win-rate router), with the
oracle as the upper bound, using :func:`~skcomplexity.evaluation.evaluate_routers`.

Every number is out-of-fold: each router is fitted on the training folds and routes the
held-out prompts, whose routes are pooled over all 299 prompts. Intervals are bootstrap
intervals over prompts, the same resamples for every row.
"""

# %%
# The data and the routers
# ------------------------
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression

from skcomplexity import ComplexityClassifier, CostAwareRouter
from skcomplexity.datasets import load_routerbench
from skcomplexity.evaluation import PAPER_LADDER, evaluate_routers, format_results, plot_results
from skcomplexity.peers import KNNRouter, WinRateRouter

bench = load_routerbench(models=PAPER_LADDER)
costs = bench.costs.mean(axis=0)  # mean US$ per call: what the routers trade against
common = dict(models=bench.models, costs=costs, random_state=0)


def classifier():
    return ComplexityClassifier(classifier=LogisticRegression(max_iter=1000))


routers = {
    "CostAwareRouter utility": CostAwareRouter(classifier(), strategy="utility", **common),
    "CostAwareRouter budget 5%": CostAwareRouter(
        classifier(), strategy="budget", budget=0.05 * costs[-1], cv=3, **common
    ),
    "kNN (RouterBench)": KNNRouter(models=bench.models, costs=costs),
    "win-rate (RouteLLM)": WinRateRouter(models=bench.models, costs=costs),
}

# %%
# Cross-validated evaluation
# --------------------------
# ``match_random_to`` adds a random router that spends what the 5% budget router spends,
# ``compare_to`` the paired accuracy difference of each row to the utility router. Routers
# with a ``sweep`` get APGR (RouteLLM) and AIQ (RouterBench) from their whole out-of-fold
# cost-accuracy curve; fixed routers are single points and get none.
results = evaluate_routers(
    routers, bench.prompts, bench.outcomes, bench.costs, models=bench.models,
    cv=5, random_state=0, n_bootstraps=200,
    sweep=["CostAwareRouter utility", "kNN (RouterBench)", "win-rate (RouteLLM)"],
    match_random_to="CostAwareRouter budget 5%", compare_to="CostAwareRouter utility",
)
print(format_results(results))

# %%
# Cost-accuracy curves
# --------------------
# :func:`~skcomplexity.evaluation.plot_results` draws each swept router's pooled
# out-of-fold curve with :class:`~skcomplexity.plotting.RoutingCurveDisplay`, the single
# models as black dots, the oracle as a star and the fixed routers as markers. The cost axis
# is logarithmic: GPT-4 costs about 28 times as much as GPT-3.5 per call here.
fig, ax = plt.subplots(figsize=(8, 5.5))
plot_results(results, ax=ax, title="Paper's ladder on RouterBench MBPP (5-fold, out-of-fold)")
fig.tight_layout()
plt.show()

# %%
# Reading the table: with a single sampled answer per model and a few hundred prompts, the
# intervals are wide, and the paired ``delta_accuracy`` interval is the one to read when
# asking whether one router beats another. The benchmark ``benchmarks/bench_routing.py``
# runs the same comparison with more routers and more resamples, for this ladder and for all
# eleven RouterBench models.
