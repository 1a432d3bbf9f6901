"""Cost-accuracy curves of routers, in the style of scikit-learn's Displays."""

from __future__ import annotations

import numpy as np

from .baselines import OracleRouter
from .labels import check_outcomes
from .metrics import _upper_hull, cost_accuracy_points, mean_cost, routed_accuracy

__all__ = ["RoutingCurveDisplay"]


def _short(name):
    """``"meta/code-llama-instruct-34b-chat"`` -> ``"code-llama-instruct-34b-chat"``."""
    return str(name).rsplit("/", 1)[-1]


def monotone_hull(costs, accuracies):
    """The non-decreasing upper convex hull of cost-accuracy points (RouterBench's AIQ curve).

    Any point on it is reachable by mixing two routings at random, and spending more never
    has to lower accuracy; hence "non-decreasing convex".

    Returns
    -------
    costs, accuracies : ndarray
        The hull's vertices, by increasing cost.

    Examples
    --------
    >>> monotone_hull([0, 1, 2, 3], [0.5, 0.9, 0.6, 0.8])
    (array([0., 1., 3.]), array([0.5, 0.9, 0.9]))
    """
    costs = np.asarray(costs, float)
    acc = np.asarray(accuracies, float)
    order = np.lexsort((acc, costs))
    hull = _upper_hull(costs[order], acc[order])
    hx, hy = hull[:, 0], np.maximum.accumulate(hull[:, 1])
    return hx, hy


class RoutingCurveDisplay:
    """Cost-accuracy curve of a router: one point per setting of its cost knob.

    It is recommended to create a display with :meth:`from_estimator` or
    :meth:`from_predictions`; ``__init__`` only stores the points.

    Parameters
    ----------
    costs : array-like of shape (n_points,)
        Mean cost per prompt of each point of the router's sweep.
    accuracies : array-like of shape (n_points,)
        Routed accuracy of each point.
    name : str, default=None
        Name of the router, for the legend.
    single_models : dict of str -> (cost, accuracy), default=None
        Always-this-model reference points, drawn as labelled markers.
    oracle : tuple (cost, accuracy), default=None
        The oracle's point (cheapest model that succeeded), an upper bound.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The router's curve.
    hull_line_ : matplotlib Line2D or None
        Its non-decreasing convex hull, when drawn.
    single_models_ : list of matplotlib artists
        The single models' markers (empty when not drawn).
    oracle_ : matplotlib Line2D or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcomplexity.plotting import RoutingCurveDisplay
    >>> disp = RoutingCurveDisplay([1, 5, 10], [0.5, 0.65, 0.7], name="router",
    ...                            single_models={"small": (1, 0.5), "large": (10, 0.7)})
    >>> disp = disp.plot()
    >>> len(disp.single_models_)
    2
    """

    def __init__(self, costs, accuracies, *, name=None, single_models=None, oracle=None):
        self.costs = costs
        self.accuracies = accuracies
        self.name = name
        self.single_models = single_models
        self.oracle = oracle

    def plot(
        self,
        ax=None,
        *,
        name=None,
        show_single_models=True,
        show_hull=False,
        log_x=False,
        **kwargs,
    ):
        """Draw the curve (and the reference points) on ``ax``.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            None makes a new figure and axes.
        name : str, default=None
            Legend label; None uses the display's ``name``.
        show_single_models : bool, default=True
            Draw ``single_models`` and ``oracle`` when they are set.
        show_hull : bool, default=False
            Also draw the curve's non-decreasing convex hull (dashed), over which AIQ is
            the mean height.
        log_x : bool, default=False
            Log-scaled cost axis: model costs on a ladder span orders of magnitude.
        **kwargs : dict
            Passed to ``ax.plot`` for the curve.

        Returns
        -------
        self : RoutingCurveDisplay
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        costs = np.asarray(self.costs, float)
        acc = np.asarray(self.accuracies, float)
        order = np.lexsort((acc, costs))
        name = self.name if name is None else name
        style = {"marker": ".", "markersize": 4, "linewidth": 1.5}
        style.update(kwargs)
        if name is not None:
            style.setdefault("label", name)
        (self.line_,) = ax.plot(costs[order], acc[order], **style)
        self.hull_line_ = None
        if show_hull:
            hx, hy = monotone_hull(costs, acc)
            (self.hull_line_,) = ax.plot(
                hx, hy, linestyle="--", linewidth=1, color=self.line_.get_color()
            )
        self.single_models_ = []
        self.oracle_ = None
        if show_single_models and self.single_models:
            for model, (c, a) in self.single_models.items():
                (point,) = ax.plot([c], [a], marker="o", color="black", linestyle="none",
                                   markersize=5)
                ax.annotate(_short(model), (c, a), textcoords="offset points", xytext=(4, 3),
                            fontsize=7)
                self.single_models_.append(point)
        if show_single_models and self.oracle is not None:
            (self.oracle_,) = ax.plot([self.oracle[0]], [self.oracle[1]], marker="*",
                                      color="gold", markeredgecolor="black", markersize=12,
                                      linestyle="none", label="oracle")
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel("mean cost per prompt")
        ax.set_ylabel("accuracy")
        ax.grid(True, alpha=0.3)
        if name is not None or self.oracle_ is not None:
            ax.legend(loc="lower right", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        outcomes,
        routes_list,
        costs,
        *,
        models=None,
        name=None,
        single_models=True,
        oracle=True,
        ax=None,
        **kwargs,
    ):
        """Plot the curve of routings already made (one routing per point of a sweep).

        Parameters
        ----------
        outcomes : array-like of shape (n_prompts, n_models)
        routes_list : array-like of shape (n_points, n_prompts)
            Model indices (or names, with ``models``).
        costs : array-like of shape (n_models,) or (n_prompts, n_models)
            Cost per model, or per prompt and model as RouterBench records it.
        models : list of str, default=None
            Model names, for the single-model labels and to read named routes.
        name : str, default=None
        single_models : bool, default=True
            Also draw always-each-model points computed from ``outcomes``.
        oracle : bool, default=True
            Also draw the oracle's point computed from ``outcomes``.
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : RoutingCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from skcomplexity.plotting import RoutingCurveDisplay
        >>> outcomes = [[1, 1], [0, 1], [0, 0]]
        >>> disp = RoutingCurveDisplay.from_predictions(
        ...     outcomes, [[0, 0, 0], [0, 1, 0], [1, 1, 1]], [1, 10], models=["a", "b"])
        >>> disp.accuracies
        array([0.333..., 0.666..., 0.666...])
        """
        out = check_outcomes(outcomes, name="outcomes")
        n_models = out.shape[1]
        labels = list(models) if models is not None else [f"model {k}" for k in range(n_models)]
        c, a = cost_accuracy_points(out, routes_list, costs, models=models)
        singles = None
        if single_models:
            singles = {
                labels[k]: (mean_cost(costs, np.full(len(out), k)),
                            routed_accuracy(out, np.full(len(out), k)))
                for k in range(n_models)
            }
        best = None
        if oracle:
            idx = OracleRouter(models=labels, costs=np.ones(n_models)).fit().predict_index(out, out)
            best = (mean_cost(costs, idx), routed_accuracy(out, idx))
        display = cls(c, a, name=name, single_models=singles, oracle=best)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        router,
        X,
        outcomes,
        *,
        costs=None,
        cost_weights=None,
        name=None,
        single_models=True,
        oracle=True,
        ax=None,
        **kwargs,
    ):
        """Plot the curve of a fitted router traced by its ``sweep``.

        Parameters
        ----------
        router : fitted router with a ``sweep(X[, grid])`` method
            :class:`~skcomplexity.CostAwareRouter` or a router of :mod:`skcomplexity.peers`.
        X : prompts (or features) to route
        outcomes : array-like of shape (n_prompts, n_models)
        costs : array-like of shape (n_models,) or (n_prompts, n_models), default=None
            None uses the router's ``costs_``.
        cost_weights : array-like, default=None
            The sweep's grid (cost weights, or shares of strong calls for
            :class:`~skcomplexity.peers.WinRateRouter`); None uses the router's default.
        name : str, default=None
            None uses the router's class name.
        single_models, oracle, ax, **kwargs
            As in :meth:`from_predictions`.

        Returns
        -------
        display : RoutingCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skcomplexity.peers import KNNRouter
        >>> from skcomplexity.plotting import RoutingCurveDisplay
        >>> X = np.array([[0.0], [0.1], [1.0], [1.1]])
        >>> Y = np.array([[1, 1], [1, 1], [0, 1], [0, 1]])
        >>> router = KNNRouter(models=["small", "large"], costs=[1, 10], n_neighbors=2,
        ...                    metric="euclidean").fit(X, Y)
        >>> disp = RoutingCurveDisplay.from_estimator(router, X, Y)
        >>> disp.name, disp.ax_.get_xlabel()
        ('KNNRouter', 'mean cost per prompt')
        """
        _, routes = router.sweep(X) if cost_weights is None else router.sweep(X, cost_weights)
        return cls.from_predictions(
            outcomes,
            routes,
            router.costs_ if costs is None else costs,
            models=list(router.models_),
            name=type(router).__name__ if name is None else name,
            single_models=single_models,
            oracle=oracle,
            ax=ax,
            **kwargs,
        )
