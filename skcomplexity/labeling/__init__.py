"""Label coding tasks with the models that can solve them.

The first box of the pipeline: a ladder of LLM backends answers each task several times
(:mod:`~skcomplexity.labeling.backends`, prompts from
:mod:`~skcomplexity.labeling.prompting`), the answers run against the task's asserts in the
sandbox, and :func:`label_tasks` turns the pass counts into an outcome table and complexity
levels. Every completion goes through a persistent :class:`CompletionCache`, so a re-run or a
resume pays for nothing twice.
"""

from ._label import LabelingResult, label_tasks, load_tasks
from .backends import Backend, BackendError, Completion, make_backend
from .cache import CompletionCache, cache_key
from .prompting import SYSTEM_PROMPT, build_messages, entry_point, extract_code

__all__ = [
    "Backend",
    "BackendError",
    "Completion",
    "CompletionCache",
    "LabelingResult",
    "SYSTEM_PROMPT",
    "build_messages",
    "cache_key",
    "entry_point",
    "extract_code",
    "label_tasks",
    "load_tasks",
    "make_backend",
]
