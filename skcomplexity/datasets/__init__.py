"""Loaders for the coding-task datasets that skcomplexity learns from and is evaluated on.

Following ``sklearn.datasets``: files live in a data home (:func:`get_data_home`, the
``SKCOMPLEXITY_DATA`` environment variable, or ``~/skcomplexity_data``), fetchers download what
is missing, and every loader returns a :class:`~sklearn.utils.Bunch` with a ``DESCR``.
"""

from ._base import get_data_home
from ._humaneval import load_humaneval
from ._mbpp import fetch_mbpp
from ._routerbench import load_routerbench
from ._routerdc import load_routerdc

__all__ = [
    "get_data_home",
    "fetch_mbpp",
    "load_routerbench",
    "load_routerdc",
    "load_humaneval",
]
