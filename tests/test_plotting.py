"""RoutingCurveDisplay draws what it is given, on the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from skcomplexity.metrics import cost_accuracy_points  # noqa: E402
from skcomplexity.peers import KNNRouter, WinRateRouter  # noqa: E402
from skcomplexity.plotting import RoutingCurveDisplay, monotone_hull  # noqa: E402

OUTCOMES = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0]])
COSTS = [1.0, 10.0, 100.0]
MODELS = ["a", "b", "c"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_from_predictions_draws_curve_models_and_oracle():
    routes = [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 2, 0], [2, 2, 2, 2]]
    disp = RoutingCurveDisplay.from_predictions(OUTCOMES, routes, COSTS, models=MODELS,
                                                name="router")
    assert disp.ax_.figure is disp.figure_
    # One curve, three single models, the oracle.
    assert len(disp.ax_.lines) == 5
    assert len(disp.single_models_) == 3
    c, a = cost_accuracy_points(OUTCOMES, routes, COSTS)
    order = np.lexsort((a, c))
    np.testing.assert_allclose(disp.line_.get_xdata(), c[order])
    np.testing.assert_allclose(disp.line_.get_ydata(), a[order])
    # The oracle: cheapest model that succeeded, cheapest model when none did.
    assert disp.oracle == (pytest.approx((1 + 10 + 100 + 1) / 4), 0.75)
    labels = [t.get_text() for t in disp.ax_.texts]
    assert labels == MODELS
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == ["router", "oracle"]


def test_plot_options_and_existing_axes():
    fig, ax = plt.subplots()
    disp = RoutingCurveDisplay([1, 5, 8, 10], [0.5, 0.7, 0.6, 0.72], name="r")
    out = disp.plot(ax=ax, show_hull=True, log_x=True, color="red")
    assert out is disp and disp.ax_ is ax and disp.figure_ is fig
    assert ax.get_xscale() == "log"
    assert disp.hull_line_ is not None
    np.testing.assert_allclose(disp.hull_line_.get_xdata(), [1, 5, 10])
    assert disp.line_.get_color() == "red"
    assert disp.single_models_ == [] and disp.oracle_ is None


def test_hide_single_models():
    disp = RoutingCurveDisplay([1, 10], [0.5, 0.7], single_models={"a": (1, 0.5)}, oracle=(2, 0.9))
    disp.plot(show_single_models=False)
    assert len(disp.ax_.lines) == 1


def test_monotone_hull_never_decreases():
    hx, hy = monotone_hull([0, 1, 2, 3, 4], [0.5, 0.8, 0.6, 0.7, 0.75])
    assert np.all(np.diff(hy) >= 0)
    assert hx[0] == 0 and hy[0] == 0.5


def test_from_estimator_uses_the_routers_sweep(rng):
    X = rng.normal(size=(60, 3))
    Y = np.c_[X[:, 0] < 0, X[:, 0] < 1, np.ones(60)].astype(float)
    router = KNNRouter(models=MODELS, costs=COSTS, n_neighbors=5, metric="euclidean").fit(X, Y)
    disp = RoutingCurveDisplay.from_estimator(router, X, Y, cost_weights=[0.0, 0.5, 10.0])
    _, routes = router.sweep(X, [0.0, 0.5, 10.0])
    expected, _ = cost_accuracy_points(Y, routes, COSTS)
    np.testing.assert_allclose(np.sort(disp.costs), np.sort(expected))
    assert disp.name == "KNNRouter"
    assert len(disp.line_.get_xdata()) == 3

    # A win-rate router's grid is shares of strong calls; per-prompt costs are accepted.
    winrate = WinRateRouter(models=MODELS, costs=COSTS, random_state=0).fit(X, Y)
    per_prompt = np.tile(COSTS, (60, 1)) * rng.uniform(0.5, 1.5, (60, 1))
    disp = RoutingCurveDisplay.from_estimator(winrate, X, Y, costs=per_prompt, name="wr",
                                              single_models=False, oracle=False)
    assert len(disp.ax_.lines) == 1 and len(disp.costs) == 41
