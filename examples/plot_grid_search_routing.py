"""
===========================================================
Tuning a router's threshold and mapping with GridSearchCV
===========================================================

A router has knobs that trade accuracy for cost: the ``threshold`` of the ``"threshold"``
strategy, or the level-to-model table of the ``"mapping"`` strategy. Because
:class:`~skcomplexity.CostAwareRouter` is a scikit-learn estimator, these are tuned with
:class:`~sklearn.model_selection.GridSearchCV`. What it needs is a score that reads the
outcome matrix passed as ``y``: :func:`~skcomplexity.metrics.make_routing_scorer` builds one
(routed accuracy, minus the mean cost, or a utility that charges accuracy for cost).
"""

# %%
# Data and pipeline
# -----------------
# RouterBench's MBPP prompts with the outcomes of Code Llama 34B, GPT-3.5 and GPT-4, and
# the mean cost of a call to each as the ladder's costs.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skcomplexity import ComplexityClassifier, CostAwareRouter, SentenceEmbedder
from skcomplexity.datasets import load_routerbench
from skcomplexity.evaluation import PAPER_LADDER
from skcomplexity.metrics import make_routing_scorer

bench = load_routerbench(models=PAPER_LADDER)
costs = bench.costs.mean(axis=0)
llama, gpt35, gpt4 = bench.models

pipe = make_pipeline(
    SentenceEmbedder(),
    CostAwareRouter(
        ComplexityClassifier(classifier=LogisticRegression(max_iter=1000)),
        models=bench.models,
        costs=costs,
    ),
)

# %%
# The grid
# --------
# Fitted on outcomes, the router learns levels 1 to 4: level ``k`` means the ``k``-th model
# is the cheapest that succeeds, level 4 that none does. A mapping says where each level
# goes. Besides the default (level ``k`` to model ``k``, level 4 to the last model), we try
# sending the prompts nobody solves to the cheapest model (paying GPT-4 for them buys
# nothing), skipping GPT-3.5, and never calling GPT-4.
mappings = {
    "default (k -> k-th model)": None,
    "unsolvable -> cheapest": {1: llama, 2: gpt35, 3: gpt4, 4: llama},
    "skip GPT-3.5": {1: llama, 2: gpt4, 3: gpt4, 4: gpt4},
    "never GPT-4": {1: llama, 2: gpt35, 3: gpt35, 4: gpt35},
}
thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7]
param_grid = [
    {"costawarerouter__strategy": ["threshold"], "costawarerouter__threshold": thresholds},
    {"costawarerouter__strategy": ["mapping"],
     "costawarerouter__mapping": list(mappings.values())},
]

# %%
# The scores
# ----------
# ``"utility"`` is the routed accuracy minus ``cost_weight`` times the mean cost divided by
# the most expensive model's cost: with ``cost_weight=0.1``, sending every prompt to GPT-4
# must buy 10 points of accuracy to be worth it. Accuracy and cost are recorded too, and the
# search refits the candidate with the best utility.
scoring = {
    "utility": make_routing_scorer("utility", cost_weight=0.1),
    "accuracy": make_routing_scorer("accuracy"),
    "cost": make_routing_scorer("cost"),
}
search = GridSearchCV(
    pipe, param_grid, scoring=scoring, refit="utility",
    cv=KFold(5, shuffle=True, random_state=0),
)
search.fit(bench.prompts, bench.outcomes)
print("best:", {k.split("__")[1]: v for k, v in search.best_params_.items()})
print(f"best cross-validated utility: {search.best_score_:.3f}")

# %%
# The results, one row per candidate
# ----------------------------------
names = {repr(v): k for k, v in mappings.items()}


def label(params):
    if params["costawarerouter__strategy"] == "threshold":
        return f"threshold {params['costawarerouter__threshold']}"
    return f"mapping: {names[repr(params['costawarerouter__mapping'])]}"


results = pd.DataFrame({
    "candidate": [label(p) for p in search.cv_results_["params"]],
    "utility": search.cv_results_["mean_test_utility"],
    "accuracy": search.cv_results_["mean_test_accuracy"],
    "cost ($/1k prompts)": -1000 * search.cv_results_["mean_test_cost"],
})
print(results.round(3).to_string(index=False))

# %%
# Plot
# ----
# Left: the utility of each threshold (with its standard deviation over folds) and of each
# mapping (horizontal lines). Right: every candidate's cross-validated accuracy against its
# cost, the refitted best circled.
fig, (ax_u, ax_c) = plt.subplots(1, 2, figsize=(11, 4.5))
n_t = len(thresholds)
ax_u.errorbar(thresholds, results["utility"][:n_t],
              yerr=search.cv_results_["std_test_utility"][:n_t], marker="o", capsize=3,
              label="threshold strategy")
for i, (name, color) in enumerate(zip(mappings, ["C1", "C2", "C3", "C4"])):
    ax_u.axhline(results["utility"][n_t + i], color=color, linestyle="--", label=name)
ax_u.set_xlabel("threshold (tolerated probability that the chosen model is not enough)")
ax_u.set_ylabel("cross-validated utility (cost_weight=0.1)")
ax_u.legend(fontsize=7)
ax_u.set_title("Utility of each candidate")

ax_c.scatter(results["cost ($/1k prompts)"][:n_t], results["accuracy"][:n_t],
             label="thresholds")
for i, t in enumerate(thresholds):
    ax_c.annotate(str(t), (results["cost ($/1k prompts)"][i], results["accuracy"][i]),
                  textcoords="offset points", xytext=(4, -8), fontsize=7)
for i, (name, color) in enumerate(zip(mappings, ["C1", "C2", "C3", "C4"])):
    ax_c.scatter(results["cost ($/1k prompts)"][n_t + i], results["accuracy"][n_t + i],
                 marker="s", color=color, label=name)
best = search.best_index_
ax_c.scatter(results["cost ($/1k prompts)"][best], results["accuracy"][best], s=250,
             facecolors="none", edgecolors="black", label="best utility")
ax_c.set_xlabel("cross-validated mean cost (US$ per 1k prompts)")
ax_c.set_ylabel("cross-validated routed accuracy")
ax_c.legend(fontsize=7, loc="lower right")
ax_c.set_title("Accuracy against cost")
fig.tight_layout()
plt.show()

# %%
# The best candidate depends on ``cost_weight``: a smaller weight favours the candidates
# that call GPT-4 more often. To hold a cost ceiling instead, pass ``budget=`` to
# :func:`~skcomplexity.metrics.make_routing_scorer` (candidates that spend more score
# ``-inf``), or use ``strategy="budget"``, which calibrates the cost weight itself.
