"""skcomplexity: learn how hard a task is for LLMs and route it to the cheapest capable model.

The main estimators follow scikit-learn's conventions:

* :class:`ComplexityClassifier` predicts a task's complexity level from its instruction;
* :class:`CostAwareRouter` wraps such a classifier and sends each prompt to a model of a
  ladder, cheapest first, under a mapping, a threshold, a utility or a budget;
* :class:`SentenceEmbedder` turns prompts into vectors, offline by default.
"""

from .baselines import (
    MajorityClassifier,
    OracleRouter,
    RandomRouter,
    SingleModelRouter,
    TfidfClassifier,
)
from .classifier import ComplexityClassifier
from .embedding import SentenceEmbedder
from .labels import PAPER_MAPPING, cheapest_capable_levels, paper_levels
from .router import CostAwareRouter

__version__ = "0.1.0.dev0"

__all__ = [
    "ComplexityClassifier",
    "CostAwareRouter",
    "SentenceEmbedder",
    "SingleModelRouter",
    "RandomRouter",
    "OracleRouter",
    "MajorityClassifier",
    "TfidfClassifier",
    "cheapest_capable_levels",
    "paper_levels",
    "PAPER_MAPPING",
]
