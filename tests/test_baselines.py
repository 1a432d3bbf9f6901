import numpy as np
import pytest

from skcomplexity import (
    MajorityClassifier,
    OracleRouter,
    RandomRouter,
    SingleModelRouter,
    TfidfClassifier,
)

LADDER = dict(models=["small", "medium", "large"], costs=[1.0, 10.0, 100.0])
PROMPTS = ["p%d" % i for i in range(6)]
OUTCOMES = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]])


def test_single_model_router_scores_that_models_accuracy():
    for k, name in enumerate(LADDER["models"]):
        router = SingleModelRouter(model=name, **LADDER).fit(PROMPTS)
        assert router.score(PROMPTS, OUTCOMES) == OUTCOMES[:, k].mean()
        assert router.predict_cost(PROMPTS).tolist() == [LADDER["costs"][k]] * 6
    assert SingleModelRouter(**LADDER).fit(PROMPTS).predict(["x"])[0] == "large"
    with pytest.raises(ValueError, match="not in the ladder"):
        SingleModelRouter(model="huge", **LADDER).fit(PROMPTS)


def test_random_router_matches_target_cost_in_expectation():
    router = RandomRouter(target_cost=32.5, random_state=0, **LADDER).fit(PROMPTS)
    np.testing.assert_allclose(router.probabilities_, [0, 0.75, 0.25])
    many = ["q"] * 20000
    assert router.predict_cost(many).mean() == pytest.approx(32.5, rel=0.05)
    # Same seed, same routes.
    assert (router.predict(PROMPTS) == router.predict(PROMPTS)).all()


def test_oracle_is_cheapest_success_and_upper_bound():
    oracle = OracleRouter(**LADDER).fit()
    assert oracle.predict_index(PROMPTS, OUTCOMES).tolist() == [0, 1, 2, 0, 0, 1]
    best_single = OUTCOMES.mean(axis=0).max()
    assert oracle.score(PROMPTS, OUTCOMES) == OUTCOMES.max(axis=1).mean() >= best_single
    with pytest.raises(ValueError, match="needs the outcomes"):
        oracle.predict(PROMPTS)


def test_majority_and_tfidf_classifiers():
    X = ["sort a list", "sort an array", "sort numbers", "parse a regex", "compile a regex"]
    y = [1, 1, 1, 2, 2]
    majority = MajorityClassifier().fit(X, y)
    assert majority.predict(["anything"]).tolist() == [1]
    np.testing.assert_allclose(majority.predict_proba(["x"]), [[0.6, 0.4]])
    tfidf = TfidfClassifier().fit(X, y)
    assert tfidf.predict(["sort the list", "regex parse"]).tolist() == [1, 2]
    with pytest.raises(ValueError, match="empty string"):
        TfidfClassifier().fit(["", "x"], [1, 2])
