"""Fixtures shared by the tests: real data and real models, each loaded once per session."""

import os
from pathlib import Path

import numpy as np
import pytest

PAPER_LADDER = ["meta/code-llama-instruct-34b-chat", "gpt-3.5-turbo-1106", "gpt-4-1106-preview"]


def _data_home():
    data = os.environ.get("SKCOMPLEXITY_DATA")
    if not data or not Path(data).is_dir():
        pytest.skip("SKCOMPLEXITY_DATA is not set to the data folder (../shared/data)")
    return data


@pytest.fixture(scope="session")
def data_home():
    """The folder with mbpp/, routerbench/ and routerdc/ (skips when absent)."""
    return _data_home()


@pytest.fixture(scope="session")
def routerbench(data_home):
    """RouterBench's MBPP train split for the paper's three-model ladder."""
    from skcomplexity.datasets import load_routerbench

    return load_routerbench(data_home=data_home, models=PAPER_LADDER)


@pytest.fixture(scope="session")
def embedder():
    """The real offline all-MiniLM-L6-v2, loaded once."""
    from skcomplexity import SentenceEmbedder

    return SentenceEmbedder().fit()


@pytest.fixture(scope="session")
def routerbench_embeddings(routerbench, embedder):
    return embedder.transform(routerbench.prompts)


@pytest.fixture()
def rng():
    return np.random.RandomState(0)
