"""CostAwareRouter on prompts: strategies, the scikit-learn tools around it, and errors."""

import io

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skcomplexity import (
    ComplexityClassifier,
    CostAwareRouter,
    SentenceEmbedder,
    TfidfClassifier,
    paper_levels,
)
from skcomplexity.metrics import make_routing_scorer

NAMES = ["codellama", "gpt35", "gpt4"]


def _fast_classifier():
    return ComplexityClassifier(classifier=LogisticRegression(max_iter=2000))


@pytest.fixture(scope="module")
def data(routerbench, routerbench_embeddings):
    costs = routerbench.costs.mean(axis=0)
    return routerbench.prompts, routerbench_embeddings, routerbench.outcomes, costs


def test_readme_snippet_routes_to_ladder_names(data):
    prompts, _, outcomes, _ = data
    prompts_train, prompts_test = prompts[:200], prompts[200:]
    outcomes_train = outcomes[:200]
    router = CostAwareRouter(models=["codellama", "gpt35", "gpt4"], costs=[1.6e-4, 3.3e-4, 9.4e-3],
                             strategy="budget", budget=4.7e-4)
    router.fit(prompts_train, outcomes_train)
    routed = router.predict(prompts_test)
    assert routed.shape == (len(prompts_test),)
    assert set(routed) <= {"codellama", "gpt35", "gpt4"}
    assert router.predict_cost(prompts_test).mean() <= 4.7e-4 * 1.5


@pytest.mark.slow
def test_budget_router_on_unseen_prompts_respects_budget_and_beats_gpt35(data):
    """The issue's acceptance test, cross-validated so every prompt is scored unseen."""
    prompts, _, outcomes, costs = data
    prompts = np.asarray(prompts, dtype=object)
    budget = 0.05 * costs[2]
    routes = np.empty(len(prompts), dtype=int)
    for train, test in KFold(5, shuffle=True, random_state=0).split(prompts):
        router = CostAwareRouter(models=NAMES, costs=costs, strategy="budget", budget=budget,
                                 random_state=0).fit(prompts[train], outcomes[train])
        routes[test] = router.predict_index(prompts[test])
    spent = costs[routes].mean()
    accuracy = outcomes[np.arange(len(routes)), routes].mean()
    assert spent <= 1.10 * budget
    assert accuracy >= outcomes[:, 1].mean()  # always-GPT-3.5 on the same prompts


def test_strategies_span_the_ladder(data):
    _, X, Y, costs = data
    base = dict(estimator=_fast_classifier(), models=NAMES, costs=costs)
    cheap = CostAwareRouter(strategy="utility", cost_weight=1e6, **base).fit(X, Y)
    assert set(cheap.predict(X)) == {"codellama"}
    careful = CostAwareRouter(strategy="threshold", threshold=0.0, **base).fit(X, Y)
    assert set(careful.predict(X)) == {"gpt4"}
    brave = CostAwareRouter(strategy="threshold", threshold=1.0, **base).fit(X, Y)
    assert set(brave.predict(X)) == {"codellama"}
    # More cost weight never spends more.
    spend = [CostAwareRouter(strategy="utility", cost_weight=w, **base).fit(X, Y).predict_cost(X).mean()
             for w in (0.0, 0.05, 0.5, 5.0)]
    assert spend == sorted(spend, reverse=True)


def test_success_probabilities_grow_along_the_ladder(data):
    _, X, Y, costs = data
    router = CostAwareRouter(_fast_classifier(), models=NAMES, costs=costs, strategy="utility").fit(X, Y)
    proba = router.predict_success_proba(X)
    assert proba.shape == (len(X), 3)
    assert np.all(np.diff(proba, axis=1) >= -1e-12)
    assert np.all((proba >= 0) & (proba <= 1 + 1e-12))


def test_budget_calibration_is_recorded_and_respected_in_sample(data):
    _, X, Y, costs = data
    router = CostAwareRouter(_fast_classifier(), models=NAMES, costs=costs, strategy="budget",
                             budget=0.2 * costs[2], random_state=0).fit(X, Y)
    cal = router.calibration_
    assert cal["mean_cost"][cal["best_index"]] <= 0.2 * costs[2]
    assert router.cost_weight_ == cal["cost_weight"][cal["best_index"]]


def test_budget_below_cheapest_model_warns_and_routes_cheapest(data):
    _, X, Y, costs = data
    router = CostAwareRouter(_fast_classifier(), models=NAMES, costs=costs, strategy="budget",
                             budget=costs[0] / 10)
    with pytest.warns(UserWarning, match="below the cheapest"):
        router.fit(X, Y)
    assert set(router.predict(X)) == {"codellama"}


def test_paper_mapping_on_paper_levels():
    # Pass counts of 5 samples each, for the paper's ladder; levels 1-5 as in the paper.
    rng = np.random.RandomState(0)
    passes = rng.randint(0, 6, size=(60, 3))
    passes[:, 2] = np.maximum(passes[:, 2], 1)  # every task solved by someone
    levels = paper_levels(passes)
    X = rng.normal(size=(60, 4)) + levels[:, None]
    mapping = {1: "codellama", 2: "codellama", 3: "gpt35", 4: "gpt35", 5: "gpt4"}
    router = CostAwareRouter(_fast_classifier(), models=NAMES, costs=[1, 10, 100], mapping=mapping)
    router.fit(X, levels)
    predicted_levels = router.predict_level(X)
    expected = np.array([mapping[v] for v in predicted_levels], dtype=object)
    assert (router.predict(X) == expected).all()
    assert 0 <= router.score(X, levels) <= 1


def test_clone_pickle_and_joblib_round_trip_give_identical_predictions(data):
    prompts, _, Y, costs = data
    router = CostAwareRouter(models=NAMES, costs=list(costs), strategy="utility", random_state=0)
    assert clone(router).get_params() == router.get_params()
    router.fit(prompts[:150], Y[:150])
    buffer = io.BytesIO()
    joblib.dump(router, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    assert (restored.predict(prompts[150:]) == router.predict(prompts[150:])).all()
    np.testing.assert_allclose(restored.predict_success_proba(prompts[150:]),
                               router.predict_success_proba(prompts[150:]))


def test_pipeline_cross_val_score_and_grid_search(data):
    prompts, _, Y, costs = data
    pipe = make_pipeline(
        SentenceEmbedder(),
        CostAwareRouter(_fast_classifier(), models=NAMES, costs=costs, strategy="threshold"),
    )
    scores = cross_val_score(pipe, prompts, Y, cv=3)
    assert scores.shape == (3,) and np.all((scores > 0.3) & (scores <= 1))

    search = GridSearchCV(
        pipe,
        {"costawarerouter__threshold": [0.1, 0.5, 0.9]},
        scoring=make_routing_scorer("utility", cost_weight=1.0),
        cv=3,
    ).fit(prompts, Y)
    assert search.best_params_["costawarerouter__threshold"] in (0.1, 0.5, 0.9)
    assert np.isfinite(search.best_score_)


def test_grid_search_over_mappings_with_text_estimator(data):
    prompts, _, Y, costs = data
    mappings = [
        {1: "codellama", 2: "gpt35", 3: "gpt4", 4: "gpt4"},
        {1: "gpt35", 2: "gpt35", 3: "gpt4", 4: "gpt4"},
        {1: "codellama", 2: "gpt35", 3: "gpt35", 4: "codellama"},
    ]
    router = CostAwareRouter(TfidfClassifier(), models=NAMES, costs=costs, strategy="mapping")
    search = GridSearchCV(router, {"mapping": mappings},
                          scoring=make_routing_scorer(budget=0.2 * costs[2]), cv=3).fit(prompts, Y)
    assert search.best_params_["mapping"] in mappings
    assert search.best_estimator_.predict_cost(prompts).mean() <= 0.3 * costs[2]


@pytest.mark.parametrize(
    "X, Y, params, error, message",
    [
        (None, [[1, 1]], {}, ValueError, "None"),
        (["ok", None], [[1, 1], [1, 1]], {}, ValueError, "X\\[1\\] is missing"),
        (["ok", float("nan")], [[1, 1], [1, 1]], {}, ValueError, "X\\[1\\] is missing"),
        (["ok", "  "], [[1, 1], [1, 1]], {}, ValueError, "empty string"),
        (["a", "b"], [[1, 1, 1], [1, 1, 1]], {}, ValueError, "3 columns but 2 models"),
        (["a", "b"], [[1, 1]], {}, ValueError, "2 prompts but Y has 1"),
        (["a", "b"], [[1, np.nan], [1, 1]], {}, ValueError, "NaN"),
        (["a", "b"], [[1, 1], [1, 1]], {"costs": [-1, 1]}, ValueError, "non-negative"),
        (["a", "b"], [[1, 1], [1, 1]], {"costs": [5, 1]}, ValueError, "ascending"),
        (["a", "b"], [[1, 1], [1, 1]], {"costs": [1]}, ValueError, "one value per model"),
        (["add two numbers", "sort a list"], [1, 2], {"mapping": {1: "small", 2: "gpt5"}},
         ValueError, "unknown model.*gpt5"),
        (["add two numbers", "sort a list"], [1, 2], {"mapping": {1: "small"}}, ValueError,
         "no model for level.*2"),
        (["add two numbers", "sort a list"], [[1, 1], [1, 1]], {"strategy": "budget"},
         ValueError, "needs a budget"),
        (["a", "b"], [[1, 1], [1, 1]], {"strategy": "guess"}, ValueError, "strategy"),
        ("just one", [[1, 1]], {}, TypeError, "single string"),
    ],
)
def test_bad_input_is_named(X, Y, params, error, message):
    kwargs = dict(estimator=TfidfClassifier(), models=["small", "large"], costs=[1, 10])
    kwargs.update(params)
    with pytest.raises(error, match=message):
        CostAwareRouter(**kwargs).fit(X, Y)


def test_predict_before_fit_and_on_wrong_input_type(data):
    from sklearn.exceptions import NotFittedError

    prompts, X, Y, costs = data
    router = CostAwareRouter(_fast_classifier(), models=NAMES, costs=costs)
    with pytest.raises(NotFittedError):
        router.predict(prompts[:2])
    router.fit(prompts[:100], Y[:100])
    with pytest.raises(ValueError, match="fitted on prompts"):
        router.predict(X[:2])
