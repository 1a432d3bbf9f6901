"""Cross-validated router evaluation: numbers agree with the metrics, intervals hold them."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skcomplexity import ComplexityClassifier, CostAwareRouter, OracleRouter
from skcomplexity.evaluation import (
    ZERO_ROUTER,
    cross_val_routes,
    evaluate_routers,
    format_results,
    main,
    plot_results,
)
from skcomplexity.metrics import aiq, mean_cost, routed_accuracy
from skcomplexity.peers import KNNRouter

MODELS = ["small", "medium", "large"]


@pytest.fixture(scope="module")
def hand_made():
    """40 prompts with 2-D features, outcomes that follow them, and per-prompt costs."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    hard = X[:, 0]
    Y = np.c_[hard < -0.3, hard < 0.5, hard < 1.5].astype(float)
    Y[rng.rand(40) < 0.1] = 0  # a few tasks no model solves
    costs = np.c_[rng.uniform(0.5, 1.5, 40), rng.uniform(5, 15, 40), rng.uniform(50, 150, 40)]
    return X, Y, costs


def _router(**kwargs):
    return CostAwareRouter(
        ComplexityClassifier(classifier=LogisticRegression(max_iter=1000)),
        models=MODELS, costs=[1.0, 10.0, 100.0], strategy="utility", **kwargs,
    )


def test_baseline_rows_equal_column_means(hand_made):
    X, Y, costs = hand_made
    res = evaluate_routers({}, X, Y, costs, models=MODELS, cv=4, n_bootstraps=100)
    for k, m in enumerate(MODELS):
        row = res.loc[f"always {m}"]
        assert row["accuracy"] == Y[:, k].mean()
        assert row["cost"] == pytest.approx(costs[:, k].mean(), rel=1e-12)
        assert row["savings"] == pytest.approx(1 - costs[:, k].mean() / costs[:, -1].mean())
    oracle = OracleRouter(models=MODELS, costs=[1, 10, 100]).fit(X).predict_index(X, Y)
    assert res.loc["oracle", "accuracy"] == routed_accuracy(Y, oracle)
    assert res.loc["oracle", "cost"] == pytest.approx(mean_cost(costs, oracle))
    assert res.attrs["reference"] == "large"


def test_router_row_matches_out_of_fold_routes(hand_made):
    X, Y, costs = hand_made
    res = evaluate_routers({"utility": _router()}, X, Y, costs, models=MODELS, cv=4,
                           random_state=3, n_bootstraps=200, baselines=False)
    assignment, sweep_routes = cross_val_routes(_router(), X, Y, cv=4, random_state=3)
    routes = assignment.argmax(axis=1)
    assert (assignment.sum(axis=1) == 1).all()
    assert res.loc["utility", "accuracy"] == pytest.approx(routed_accuracy(Y, routes))
    assert res.loc["utility", "cost"] == pytest.approx(mean_cost(costs, routes))
    # AIQ over the completed sweep: every router can send everything to the cheapest model.
    c = np.array([mean_cost(costs, r) for r in sweep_routes])
    a = np.array([routed_accuracy(Y, r) for r in sweep_routes])
    c_full = np.r_[costs[:, 0].mean(), c, costs[:, -1].mean()]
    a_full = np.r_[Y[:, 0].mean(), a, a.max()]
    assert res.loc["utility", "aiq"] == pytest.approx(aiq(c_full, a_full))
    assert np.isfinite(res.loc["utility", "apgr"])


def test_bootstrap_intervals_contain_point_estimates(hand_made):
    X, Y, costs = hand_made
    res = evaluate_routers({"utility": _router()}, X, Y, costs, models=MODELS, cv=4,
                           n_bootstraps=300, match_random_to="utility", compare_to="utility")
    points = res.drop(index=ZERO_ROUTER)  # the zero router has a curve, not a point
    for metric in ("accuracy", "cost", "savings"):
        assert (points[f"{metric}_low"] <= points[metric] + 1e-12).all(), metric
        assert (points[metric] <= points[f"{metric}_high"] + 1e-12).all(), metric
    low, point, high = res.loc["utility", ["aiq_low", "aiq", "aiq_high"]]
    assert low <= point <= high
    assert res.loc["utility", "delta_accuracy"] == 0
    assert res.loc["utility", ["delta_accuracy_low", "delta_accuracy_high"]].tolist() == [0, 0]
    assert res.loc["utility", "delta_aiq"] == 0
    assert np.isnan(res.loc["oracle", "delta_aiq"])  # no sweep, no AIQ


def test_zero_router_is_the_hull_of_single_models(hand_made):
    X, Y, costs = hand_made
    res = evaluate_routers({}, X, Y, costs, models=MODELS, cv=4, n_bootstraps=100)
    zero = res.loc[ZERO_ROUTER]
    assert np.isnan(zero["accuracy"])
    c, a = costs.mean(axis=0), Y.mean(axis=0)
    assert zero["aiq"] == pytest.approx(aiq(c, a))
    assert zero["aiq_low"] <= zero["aiq"] <= zero["aiq_high"]


def test_random_baseline_spends_like_its_target(hand_made):
    X, Y, _ = hand_made
    model_costs = np.array([1.0, 10.0, 100.0])
    res = evaluate_routers({"utility": _router(cost_weight=0.3)}, X, Y, model_costs,
                           models=MODELS, cv=4, n_bootstraps=0, match_random_to="utility")
    name = "random (cost of utility)"
    assert res.loc[name, "cost"] == pytest.approx(res.loc["utility", "cost"])
    assert list(res.index)[-1] == "oracle"
    with pytest.raises(ValueError, match="not a router name"):
        evaluate_routers({}, X, Y, model_costs, models=MODELS, match_random_to="nope")


def test_held_out_test_set(hand_made):
    X, Y, costs = hand_made
    res = evaluate_routers({"utility": _router()}, X[:30], Y[:30], costs[:30], models=MODELS,
                           test=(X[30:], Y[30:], costs[30:]), n_bootstraps=50)
    assert res.attrs["n_prompts"] == 10
    routes = _router().fit(X[:30], Y[:30]).predict_index(X[30:])
    assert res.loc["utility", "accuracy"] == routed_accuracy(Y[30:], routes)


def test_format_and_plot(hand_made):
    import matplotlib

    matplotlib.use("Agg")
    X, Y, costs = hand_made
    knn = KNNRouter(models=MODELS, costs=[1, 10, 100], n_neighbors=5)
    res = evaluate_routers({"utility": _router(), "knn": knn}, X, Y, costs, models=MODELS, cv=4,
                           n_bootstraps=50)
    table = format_results(res)
    assert len(table.splitlines()) == 2 + len(res)
    assert "| utility |" in table
    displays = plot_results(res)
    assert len(displays) == 2
    ax = displays[0].ax_
    assert displays[1].ax_ is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["utility", "oracle"]


@pytest.mark.slow
def test_main_quick_writes_tables_and_figure(tmp_path, data_home, capsys):
    assert main(["--quick", "--out", str(tmp_path), "--bootstraps", "50"]) == 0
    for name in ("main_paper_ladder.md", "main_all_models.md", "main_cost_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 0
    text = (tmp_path / "main_paper_ladder.md").read_text()
    for row in ("CostAwareRouter budget 5%", "always gpt-4-1106-preview", "oracle", "random"):
        assert row in text
    assert "CostAwareRouter mapping" in capsys.readouterr().out


@pytest.mark.slow
def test_main_scores_a_test_file(tmp_path, data_home):
    """--test trains on the train split and scores on a RouterBench-format file."""
    import pandas as pd

    frame = pd.read_csv(f"{data_home}/routerbench/mbpp_train.csv")
    held_out = tmp_path / "held_out.csv"
    frame.iloc[:40].to_csv(held_out, index=False)
    train = tmp_path / "train.csv"
    frame.iloc[40:].to_csv(train, index=False)
    out = tmp_path / "out"
    assert main(["--quick", "--out", str(out), "--bootstraps", "20",
                 "--train", str(train), "--test", str(held_out), "--ladder", "paper"]) == 0
    assert "40 prompts; trained on" in (out / "main_paper_ladder.md").read_text()
