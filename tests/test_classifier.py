"""ComplexityClassifier and SentenceEmbedder with the real offline MiniLM."""

import io

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from skcomplexity import ComplexityClassifier, SentenceEmbedder
from skcomplexity.datasets import fetch_mbpp


@pytest.fixture(scope="module")
def mbpp_signal(data_home):
    """A real, learnable signal: does the MBPP instruction ask about strings?"""
    mbpp = fetch_mbpp(data_home=data_home, download_if_missing=False)
    texts = np.asarray(mbpp.data, dtype=object)[:300]
    y = np.array([int("string" in t.lower()) for t in texts])
    return texts, y


def test_embedder_shapes_normalisation_and_cache(embedder):
    a = embedder.transform(["Sort a list.", "Reverse a string."])
    assert a.shape == (2, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    raw = SentenceEmbedder(normalize_embeddings=False, cache=False).fit()
    b = raw.transform(["Sort a list."])
    # all-MiniLM-L6-v2 ends in its own Normalize module, so raw vectors point the same way.
    np.testing.assert_allclose(b[0] / np.linalg.norm(b[0]), a[0], atol=1e-5)
    # The cache returns exactly what the encoder gives.
    fresh = SentenceEmbedder(cache=False).fit().transform(["Sort a list."])
    np.testing.assert_allclose(embedder.transform(["Sort a list."]), fresh, atol=1e-6)


def test_embedder_accepts_series_and_survives_joblib(embedder):
    out = embedder.transform(pd.Series(["Add two numbers.", "Count vowels."]))
    buffer = io.BytesIO()
    joblib.dump(embedder, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    np.testing.assert_array_equal(restored.transform(["Add two numbers.", "Count vowels."]), out)
    assert embedder.get_feature_names_out().shape == (384,)


def test_embedder_errors():
    with pytest.raises(ValueError, match="empty string"):
        SentenceEmbedder().fit().transform(["fine", ""])
    with pytest.raises(OSError):
        SentenceEmbedder(model_name="/nonexistent/model/dir").fit()


def test_classifier_learns_real_signal_from_text(mbpp_signal):
    texts, y = mbpp_signal
    scores = cross_val_score(ComplexityClassifier(random_state=0), texts, y, cv=3)
    majority = max(y.mean(), 1 - y.mean())
    assert scores.mean() > majority + 0.05


def test_classifier_proba_classes_and_input_types(mbpp_signal):
    texts, y = mbpp_signal
    clf = ComplexityClassifier(classifier=LogisticRegression(max_iter=1000)).fit(list(texts), y)
    assert clf.classes_.tolist() == [0, 1]
    proba = clf.predict_proba(pd.Series(texts[:5]))
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.predict(tuple(texts[:5])).shape == (5,)
    assert 0 <= clf.score(texts, y) <= 1


def test_classifier_joblib_round_trip_identical(mbpp_signal):
    texts, y = mbpp_signal
    clf = ComplexityClassifier(random_state=0).fit(texts, y)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    np.testing.assert_array_equal(restored.predict_proba(texts[:20]), clf.predict_proba(texts[:20]))
    assert clone(clf).get_params()["random_state"] == 0


def test_precomputed_embeddings_match_text_path(embedder, mbpp_signal):
    texts, y = mbpp_signal
    head = LogisticRegression(max_iter=1000)
    on_text = ComplexityClassifier(classifier=head).fit(texts, y)
    on_vectors = ComplexityClassifier(classifier=head).fit(embedder.transform(list(texts)), y)
    np.testing.assert_allclose(
        on_text.predict_proba(texts[:10]),
        on_vectors.predict_proba(embedder.transform(list(texts[:10]))),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "X, y, message",
    [
        (["a prompt", None], [1, 2], "missing"),
        (["a prompt", ""], [1, 2], "empty string"),
        (["a prompt", "another"], [1], "2 prompts but y has 1"),
        (["a prompt", "another"], [[1, 2], [1, 2]], "1-D complexity levels"),
        (["a prompt", "another"], [1.0, np.nan], "NaN"),
        (["a prompt", "another"], None, "requires y"),
    ],
)
def test_classifier_bad_input(X, y, message):
    with pytest.raises(ValueError, match=message):
        ComplexityClassifier(classifier=LogisticRegression()).fit(X, y)
