"""Peer routers on real RouterBench outcomes, fed precomputed real embeddings for speed."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import NearestNeighbors

from skcomplexity.metrics import make_routing_scorer, mean_cost
from skcomplexity.peers import KNNRouter, MLPRouter, WinRateRouter

COSTS = [1.0, 10.0, 100.0]


def _routers(models):
    common = dict(models=models, costs=COSTS)
    return [
        KNNRouter(n_neighbors=7, **common),
        MLPRouter(hidden_layer_sizes=(32,), max_iter=300, random_state=0, **common),
        WinRateRouter(strong_share=0.3, random_state=0, **common),
    ]


@pytest.fixture(scope="module")
def data(routerbench, routerbench_embeddings):
    return routerbench_embeddings, routerbench.outcomes, list(routerbench.models)


@pytest.mark.parametrize("index", range(3), ids=["knn", "mlp", "winrate"])
def test_fit_predict_sweep(data, index):
    Z, Y, models = data
    router = _routers(models)[index].fit(Z[:200], Y[:200])
    names = router.predict(Z[200:])
    assert names.shape == (99,) and set(names) <= set(models)
    index_ = router.predict_index(Z[200:])
    np.testing.assert_array_equal(router.models_[index_], names)
    np.testing.assert_array_equal(router.predict_cost(Z[200:]), np.asarray(COSTS)[index_])
    assert 0 <= router.score(Z[200:], Y[200:]) <= 1

    grid, routes = router.sweep(Z[200:])
    assert routes.shape == (len(grid), 99)
    spend = [mean_cost(COSTS, r) for r in routes]
    # The sweep's two ends: everything to the cheapest model at one end, more spent at the other.
    assert min(spend) == COSTS[0]
    assert max(spend) > COSTS[0]


@pytest.mark.parametrize("index", range(3), ids=["knn", "mlp", "winrate"])
def test_estimator_contract(data, index):
    Z, Y, models = data
    router = _routers(models)[index]
    params = router.get_params()
    twin = clone(router)
    assert twin.get_params() == params
    fitted = router.fit(Z[:120], Y[:120])
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(Z[120:]), fitted.predict(Z[120:]))
    # Fitting leaves the parameters untouched (scikit-learn's contract).
    assert router.get_params() == params
    with pytest.raises(ValueError, match="features"):
        fitted.predict(Z[120:, :10])


def test_utility_routers_follow_cost_weight(data):
    Z, Y, models = data
    for router in _routers(models)[:2]:
        router.fit(Z[:200], Y[:200])
        spend = []
        for w in (0.0, 0.1, 1.0, 100.0):
            spend.append(router.set_params(cost_weight=w).predict_cost(Z[200:]).mean())
        assert spend == sorted(spend, reverse=True)
        assert spend[-1] == COSTS[0]


def test_knn_success_is_neighbours_mean_outcome(data):
    Z, Y, models = data
    router = KNNRouter(models=models, costs=COSTS, n_neighbors=5).fit(Z[:250], Y[:250])
    nn = NearestNeighbors(n_neighbors=5, metric="cosine").fit(Z[:250])
    _, idx = nn.kneighbors(Z[250:])
    np.testing.assert_allclose(router.predict_success_proba(Z[250:]), Y[:250][idx].mean(axis=1))


def test_mlp_handles_constant_columns_and_pass_rates(rng):
    Z = rng.normal(size=(60, 4))
    Y = np.c_[(Z[:, 0] > 0).astype(float), np.ones(60)]  # the large model always succeeds
    router = MLPRouter(models=["s", "l"], costs=[1, 10], max_iter=500, random_state=0).fit(Z, Y)
    success = router.predict_success_proba(Z)
    np.testing.assert_array_equal(success[:, 1], 1.0)
    assert ((success[:, 0] > 0.5) == (Z[:, 0] > 0)).mean() > 0.8
    rates = np.c_[rng.uniform(size=60), rng.uniform(size=60)]
    success = MLPRouter(models=["s", "l"], costs=[1, 10], random_state=0).fit(Z, rates)
    assert np.all((success.predict_success_proba(Z) >= 0) & (success.predict_success_proba(Z) <= 1))


def test_winrate_threshold_calibrates_strong_share(data):
    Z, Y, models = data
    router = WinRateRouter(models=models, costs=COSTS, strong_share=0.3, random_state=0)
    router.fit(Z, Y)
    assert abs((router.oof_scores_ > router.threshold_).mean() - 0.3) < 0.02
    # Only the weak (cheapest) and strong (dearest) models are ever called on a ladder.
    assert set(router.predict_index(Z)) <= {0, len(models) - 1}
    shares, routes = router.sweep(Z, [0.0, 1.0])
    assert (routes[0] == 0).all() and (routes[1] == len(models) - 1).all()


def test_winrate_labels(data):
    Z, Y, models = data
    wins = WinRateRouter(models=models, costs=COSTS, random_state=0).fit(Z, Y)
    fails = WinRateRouter(models=models, costs=COSTS, label="weak_fails", random_state=0).fit(Z, Y)
    assert wins.classifier_.classes_.tolist() == [0, 1]
    assert not np.allclose(wins.decision_function(Z), fails.decision_function(Z))


def test_grid_search_over_peer(data):
    Z, Y, models = data
    search = GridSearchCV(
        KNNRouter(models=models, costs=COSTS, cost_weight=0.05),
        {"n_neighbors": [3, 15]},
        scoring=make_routing_scorer("utility", cost_weight=0.05),
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(Z, Y)
    assert search.best_params_["n_neighbors"] in (3, 15)


@pytest.mark.slow
def test_peers_on_prompts(routerbench, embedder):
    prompts, Y = routerbench.prompts, routerbench.outcomes
    router = KNNRouter(embedder, models=list(routerbench.models), costs=COSTS).fit(
        prompts[:150], Y[:150]
    )
    assert router.embedder_ is not None
    assert router.predict(prompts[150:160]).shape == (10,)
    with pytest.raises(ValueError, match="fitted on prompts"):
        router.predict(np.zeros((2, 384)))
    winrate = WinRateRouter(embedder, models=list(routerbench.models), costs=COSTS,
                            random_state=0).fit(prompts[:150], Y[:150])
    assert winrate.sweep(prompts[150:160])[1].shape == (41, 10)
