import numpy as np
import pytest

from skcomplexity import metrics


def test_routed_accuracy_and_costs_by_index_and_name():
    outcomes = [[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0]]
    routes = [0, 1, 1, 2]
    assert metrics.routed_accuracy(outcomes, routes) == 0.5
    names = np.array(["a", "b", "c"])[routes]
    assert metrics.routed_accuracy(outcomes, names, models=["a", "b", "c"]) == 0.5
    assert metrics.mean_cost([1, 10, 100], routes) == pytest.approx(121 / 4)
    per_prompt = np.array([[1, 10, 100], [2, 20, 200], [1, 10, 100], [3, 30, 300]])
    assert metrics.total_cost(per_prompt, routes) == 1 + 20 + 10 + 300


def test_unknown_model_name_is_named():
    with pytest.raises(ValueError, match="unknown model"):
        metrics.routed_accuracy([[1, 0]], ["z"], models=["a", "b"])


def test_savings_and_pgr():
    assert metrics.savings(10, 100) == pytest.approx(0.9)
    assert metrics.performance_gap_recovered(0.65, 0.5, 0.7) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        metrics.savings(1, 0)


def test_apgr_of_straight_line_between_models_is_half():
    costs = np.linspace(1, 100, 11)
    acc = np.linspace(0.5, 0.7, 11)
    assert metrics.apgr(costs, acc, weak=(1, 0.5), strong=(100, 0.7)) == pytest.approx(0.5)


def test_apgr_of_router_matching_strong_model_at_weak_cost_is_one():
    costs = np.linspace(1, 100, 5)
    acc = np.full(5, 0.7)
    assert metrics.apgr(costs, acc, weak=(1, 0.5), strong=(100, 0.7)) == pytest.approx(1.0)


def test_cpt_interpolates_along_running_best():
    costs = [0, 50, 100]
    acc = [0.5, 0.6, 0.7]
    assert metrics.cpt(costs, acc, weak=(0, 0.5), strong=(100, 0.7), pgr=0.5) == pytest.approx(0.5)
    assert metrics.cpt(costs, acc, weak=(0, 0.5), strong=(100, 0.7), pgr=0.25) == pytest.approx(0.25)
    assert np.isnan(metrics.cpt(costs, acc, weak=(0, 0.5), strong=(100, 0.8), pgr=1.0))


def test_aiq_uses_non_decreasing_convex_hull():
    # A dip in the middle is bridged by the hull; the plateau after the best point is flat.
    assert metrics.aiq([0, 1, 2, 3], [0.4, 0.2, 0.8, 0.6]) == pytest.approx(
        ((0.4 + 0.6) / 2 + (0.6 + 0.8) / 2 + 0.8) / 3
    )
    with pytest.raises(ValueError):
        metrics.aiq([1, 1], [0.5, 0.6])


def test_cost_accuracy_points():
    c, a = metrics.cost_accuracy_points([[1, 1], [0, 1]], [[0, 0], [1, 1]], [1, 3])
    assert c.tolist() == [1, 3] and a.tolist() == [0.5, 1.0]


def test_scorer_budget_and_utility():
    class Fixed:
        """The smallest thing a scorer reads: a ladder and a routing."""

        models_ = np.array(["a", "b"], dtype=object)
        costs_ = np.array([1.0, 10.0])

        def predict(self, X):
            return self.models_[[0, 1]]

    Y = [[1, 1], [0, 1]]
    assert metrics.make_routing_scorer()(Fixed(), None, Y) == 1.0
    assert metrics.make_routing_scorer("cost")(Fixed(), None, Y) == -5.5
    assert metrics.make_routing_scorer("utility", cost_weight=1.0)(Fixed(), None, Y) == pytest.approx(1 - 0.55)
    assert metrics.make_routing_scorer(budget=5.0)(Fixed(), None, Y) == -np.inf
    with pytest.raises(ValueError):
        metrics.make_routing_scorer("utility")
