import numpy as np
import pytest

from skcomplexity.labels import (
    PAPER_MAPPING,
    check_outcomes,
    cheapest_capable_levels,
    paper_levels,
)


def test_cheapest_capable_levels_picks_first_model_reaching_threshold():
    rates = [[0.9, 1, 1], [0.2, 0.6, 1], [0, 0.4, 0.5], [0, 0, 0.2], [0, 0, 0]]
    assert cheapest_capable_levels(rates).tolist() == [1, 2, 3, 4, 4]
    assert cheapest_capable_levels(rates, threshold=0.2).tolist() == [1, 1, 2, 3, 4]


def test_unsolved_tasks_dropped_with_mask():
    levels, solved = cheapest_capable_levels(
        [[1, 1], [0, 0], [0, 1]], unsolved="drop", return_mask=True
    )
    assert levels.tolist() == [1, 2]
    assert solved.tolist() == [True, False, True]


def test_counts_are_divided_by_n_samples():
    assert cheapest_capable_levels([[2, 5], [3, 5]], n_samples=5).tolist() == [2, 1]


def test_paper_levels_table():
    passes = [[5, 5, 5], [4, 0, 0], [3, 5, 5], [1, 0, 0], [0, 5, 5], [0, 4, 0], [0, 3, 5],
              [0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert paper_levels(passes, unsolved="keep").tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 6]
    assert len(paper_levels(passes)) == 9  # the unsolved task is dropped, as in the paper


def test_paper_levels_are_monotone_in_difficulty():
    """Lowering any model's pass count never makes a task easier."""
    grid = np.array(np.meshgrid(*[range(6)] * 3, indexing="ij")).reshape(3, -1).T
    levels = paper_levels(grid, unsolved="keep")
    lookup = {tuple(p): lv for p, lv in zip(grid.tolist(), levels)}
    for passes, level in lookup.items():
        for k in range(3):
            if passes[k] > 0:
                lower = list(passes)
                lower[k] -= 1
                assert lookup[tuple(lower)] >= level


def test_paper_mapping_covers_levels_and_routes_to_three_models():
    assert set(PAPER_MAPPING) == {1, 2, 3, 4, 5}
    assert sorted(set(PAPER_MAPPING.values())) == [0, 1, 2]


@pytest.mark.parametrize(
    "outcomes, kwargs, message",
    [
        ([[0.5, 1.2]], {}, "outside \\[0, 1\\]"),
        ([[6, 1]], {"n_samples": 5}, "outside \\[0, 5\\]"),
        ([[np.nan, 1]], {}, "NaN"),
        ([[1, 1]], {"n_models": 3}, "2 columns but 3 models"),
        ([1, 0], {}, "2D array"),
    ],
)
def test_bad_outcomes_are_named(outcomes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_outcomes(outcomes, **kwargs)


def test_paper_levels_need_three_models():
    with pytest.raises(ValueError, match="3 models"):
        paper_levels([[1, 1]])


def test_bad_threshold_and_unsolved_option():
    with pytest.raises(ValueError, match="threshold"):
        cheapest_capable_levels([[1]], threshold=0)
    with pytest.raises(ValueError, match="unsolved"):
        cheapest_capable_levels([[1]], unsolved="maybe")
