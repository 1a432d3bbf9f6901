"""skcomplexity: learn how hard a task is for LLMs and route it to the cheapest capable model.

The main estimators follow scikit-learn's conventions:

* :class:`ComplexityClassifier` predicts a task's complexity level from its instruction;
* :class:`CostAwareRouter` wraps such a classifier and sends each prompt to a model of a
  ladder, cheapest first, under a mapping, a threshold, a utility or a budget;
* :class:`SentenceEmbedder` turns prompts into vectors, offline by default.

Names are imported on first use, so that ``import skcomplexity.sandbox`` in a worker process
does not pay for scikit-learn and the estimators.
"""

import importlib

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "ComplexityClassifier": "classifier",
    "CostAwareRouter": "router",
    "SentenceEmbedder": "embedding",
    "SingleModelRouter": "baselines",
    "RandomRouter": "baselines",
    "OracleRouter": "baselines",
    "MajorityClassifier": "baselines",
    "TfidfClassifier": "baselines",
    "FineTunedClassifier": "finetune",
    "KNNRouter": "peers",
    "MLPRouter": "peers",
    "WinRateRouter": "peers",
    "RoutingCurveDisplay": "plotting",
    "evaluate_routers": "evaluation",
    "cheapest_capable_levels": "labels",
    "paper_levels": "labels",
    "PAPER_MAPPING": "labels",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
