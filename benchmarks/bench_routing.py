"""Routing quality on RouterBench MBPP: CostAwareRouter against its peers, the paper and bounds.

For the paper's ladder (Code Llama 34B, GPT-3.5, GPT-4) and for all 11 RouterBench models,
cross-validated on the MBPP train split (or trained on it and scored on ``--test FILE``, a
table in RouterBench's format), with 95% bootstrap intervals over prompts:

* always-each-model, a random router spending as much as the 5% budget router, the oracle;
* the paper's fixed mapping on predicted levels (:class:`PaperMappingRouter`);
* each ``CostAwareRouter`` strategy (mapping, threshold, utility, budgets of 5% and 20% of
  always-GPT-4's cost);
* the peers: RouterBench's kNN and MLP routers, RouteLLM's win-rate router.

Columns: accuracy, mean cost, savings against always-GPT-4, APGR and AIQ over each router's
sweep, and the accuracy difference to ``CostAwareRouter utility`` (paired intervals).
Writes ``results/routing_paper_ladder.md``, ``results/routing_all_models.md`` and
``results/routing_cost_accuracy.png``.

Run (about 20 minutes on two busy cores)::

    SKCOMPLEXITY_DATA=../shared/data python benchmarks/bench_routing.py
    SKCOMPLEXITY_DATA=../shared/data python benchmarks/bench_routing.py --test held_out.csv
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from skcomplexity import CostAwareRouter
from skcomplexity._ladder import BaseRouter
from skcomplexity.evaluation import _parser, run_ladders
from skcomplexity.labels import PAPER_MAPPING, check_outcomes, cheapest_capable_levels, paper_levels
from skcomplexity.peers import KNNRouter, MLPRouter, WinRateRouter

RESULTS = Path(__file__).resolve().parent / "results"


class PaperMappingRouter(BaseRouter):
    """ComplexityNet's recipe: learn levels on solved tasks only, route by a fixed table.

    The paper labels each task from 5 answers per model (:func:`paper_levels`), drops the
    tasks no model solved, and routes levels 1-2, 3-4, 5 to its three models
    (:data:`PAPER_MAPPING`). RouterBench has one 0/1 answer per model, so the paper's levels
    collapse to 1, 3 and 5 (a model that passed once passed "reliably"); for the three-model
    ladder they are computed with ``paper_levels(..., n_samples=None)`` and routed by
    ``PAPER_MAPPING``. For other ladders the table is the cheapest capable model
    (:func:`cheapest_capable_levels`, level ``k`` to the ``k``-th model).

    Unlike ``CostAwareRouter(strategy="mapping")`` fitted on outcomes, which keeps unsolved
    tasks as a level of their own (and sends it to the last model), this drops them, as the
    paper does.
    """

    def __init__(self, estimator=None, *, models=None, costs=None, random_state=None):
        self.estimator = estimator
        self.models = models
        self.costs = costs
        self.random_state = random_state

    def fit(self, X, Y):
        self._check_ladder()
        outcomes = check_outcomes(Y, n_models=len(self.models_), name="Y")
        names = list(self.models_)
        if len(names) == 3:
            levels, solved = paper_levels(outcomes, n_samples=None, return_mask=True)
            mapping = {level: names[k] for level, k in PAPER_MAPPING.items()}
        else:
            levels, solved = cheapest_capable_levels(outcomes, unsolved="drop", return_mask=True)
            mapping = None
        X_solved = _safe_indexing(X, np.flatnonzero(solved))
        self.router_ = CostAwareRouter(
            self.estimator, models=names, costs=self.costs, strategy="mapping",
            mapping=mapping, random_state=self.random_state,
        ).fit(X_solved, levels)
        return self

    def predict_index(self, X):
        check_is_fitted(self, "router_")
        return self.router_.predict_index(X)


def peers(models, ladder_costs, random_state):
    """The extra rows of this benchmark: the paper's recipe and the peer routers."""
    common = dict(models=models, costs=ladder_costs)
    return {
        "paper mapping (ComplexityNet recipe)": PaperMappingRouter(
            random_state=random_state, **common
        ),
        "kNN (RouterBench)": KNNRouter(n_neighbors=10, **common),
        "MLP (RouterBench)": MLPRouter(random_state=random_state, **common),
        "win-rate (RouteLLM)": WinRateRouter(strong_share=0.5, random_state=random_state,
                                             **common),
    }


def main(argv=None):
    parser = _parser("bench_routing.py", __doc__.splitlines()[0])
    parser.set_defaults(out=str(RESULTS))
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    np.seterr(all="ignore")
    run_ladders(args, peers, prefix="routing", title="Routing quality on RouterBench MBPP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
