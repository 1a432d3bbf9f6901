"""The interface every backend implements, and what it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["Backend", "BackendError", "BackendTimeoutError", "Completion"]


@dataclass(frozen=True)
class Completion:
    """One answer of a model, with what it cost.

    Parameters
    ----------
    text : str
        The generated text (the assistant message's content).
    prompt_tokens, completion_tokens : int
        Token counts as the backend reported them.
    cost : float
        ``prompt_tokens / 1000 * price_per_1k_prompt +
        completion_tokens / 1000 * price_per_1k_completion`` with the prices the backend was
        given (0 when none were).
    finish_reason : str or None, default=None
        ``"stop"`` when the model ended its answer, ``"length"`` when ``max_tokens`` cut it.

    Examples
    --------
    >>> Completion("def f(): pass", prompt_tokens=50, completion_tokens=5, cost=0.0)
    Completion(text='def f(): pass', prompt_tokens=50, completion_tokens=5, cost=0.0,
               finish_reason=None)
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    finish_reason: str | None = None


class BackendError(RuntimeError):
    """A backend could not produce a completion.

    Raised once retries are exhausted, on errors that retrying cannot fix (bad request,
    authentication) and on responses that cannot be read. The message names the model, the
    endpoint, the number of attempts and the last status; they are also attributes.

    Examples
    --------
    >>> err = BackendError("boom", model="m", base_url="http://h/v1", attempts=3, status=500)
    >>> print(err)
    boom [model='m', base_url='http://h/v1', attempts=3, last status=500]
    >>> err.status
    500
    """

    def __init__(self, message, *, model=None, base_url=None, attempts=None, status=None):
        self.model = model
        self.base_url = base_url
        self.attempts = attempts
        self.status = status
        context = [
            f"{key}={value!r}"
            for key, value in [("model", model), ("base_url", base_url), ("attempts", attempts)]
            if value is not None
        ]
        if status is not None:
            context.append(f"last status={status}")
        super().__init__(f"{message} [{', '.join(context)}]" if context else message)


class BackendTimeoutError(BackendError, TimeoutError):
    """The last attempt timed out (also a :class:`TimeoutError`).

    Examples
    --------
    >>> err = BackendTimeoutError("no answer within 5 s", model="m", attempts=3)
    >>> isinstance(err, TimeoutError), str(err)
    (True, "no answer within 5 s [model='m', attempts=3]")
    """


class Backend(ABC):
    """A model that answers chat messages: the one interface the labeling code uses.

    Subclasses implement :meth:`generate` and :meth:`cache_params`, set :attr:`name`, and
    build their result with ``self._completion(text, prompt_tokens, completion_tokens,
    finish_reason)``, which prices it. Prices are per 1,000 tokens, as providers list them; ``price_per_1k`` sets both the
    prompt and the completion price, which the specific ones override. Backends must
    pickle (joblib sends them to worker processes), so heavy or unpicklable state (a loaded
    model, an HTTP client) is created lazily and dropped from the pickled state.

    Attributes
    ----------
    name : str
        Stable identity of the backend, such as ``"llama:smollm2-135m"`` or
        ``"openai:gpt-4o@http://127.0.0.1:8000/v1"``; :func:`make_backend` accepts it back.
        Used as a column name and as part of cache keys.

    Examples
    --------
    A backend of one's own, say a rule-based coder to label against, needs three things:

    >>> class Constant(Backend):
    ...     name = "constant:zero"
    ...     def generate(self, messages, *, temperature=0.8, max_tokens=512, seed=None):
    ...         return self._completion("def f(): return 0", 10, 8)
    ...     def cache_params(self):
    ...         return {"answer": "zero"}
    >>> Constant(price_per_1k=1.0).generate([{"role": "user", "content": "f"}]).cost
    0.018
    """

    name: str

    def __init__(self, *, price_per_1k=None, price_per_1k_prompt=None,
                 price_per_1k_completion=None):
        self.price_per_1k = price_per_1k
        self.price_per_1k_prompt = price_per_1k_prompt
        self.price_per_1k_completion = price_per_1k_completion

    @abstractmethod
    def generate(self, messages: list[dict], *, temperature: float = 0.8,
                 max_tokens: int = 512, seed: int | None = None) -> Completion:
        """Answer chat ``messages`` (OpenAI format: dicts with ``role`` and ``content``).

        Parameters
        ----------
        messages : list of dict
            The conversation, e.g. from :func:`~skcomplexity.labeling.prompting.build_messages`.
        temperature : float, default=0.8
            Sampling temperature; 0 is greedy.
        max_tokens : int, default=512
            Upper bound on the completion's length in tokens.
        seed : int or None, default=None
            Sampling seed. With a seed, a local backend returns the same text for the same
            call; a remote one does so as far as its server honours seeds.

        Returns
        -------
        completion : Completion
        """

    @abstractmethod
    def cache_params(self) -> dict:
        """Everything besides the call's arguments that determines the output.

        A cache key is these parameters plus ``messages``, ``temperature``, ``max_tokens``
        and ``seed``. Prices are left out on purpose: they change the cost, which
        :meth:`cost` recomputes from the cached token counts, not the text.

        Returns
        -------
        params : dict
            JSON-serialisable values.
        """

    def _prices(self) -> tuple[float, float]:
        base = 0.0 if self.price_per_1k is None else float(self.price_per_1k)
        prompt = base if self.price_per_1k_prompt is None else float(self.price_per_1k_prompt)
        completion = (
            base if self.price_per_1k_completion is None else float(self.price_per_1k_completion)
        )
        if prompt < 0 or completion < 0:
            raise ValueError(f"Prices must be non-negative, got {prompt} and {completion}.")
        return prompt, completion

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Price of a call with these token counts, from the per-1K-token prices.

        Examples
        --------
        >>> from skcomplexity.labeling.backends import OpenAIBackend
        >>> backend = OpenAIBackend("gpt-4o", price_per_1k_prompt=0.0025,
        ...                         price_per_1k_completion=0.01)
        >>> round(backend.cost(1000, 500), 6)
        0.0075
        """
        prompt_price, completion_price = self._prices()
        return (prompt_tokens * prompt_price + completion_tokens * completion_price) / 1000

    def _completion(self, text, prompt_tokens, completion_tokens, finish_reason=None):
        prompt_tokens, completion_tokens = int(prompt_tokens), int(completion_tokens)
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=self.cost(prompt_tokens, completion_tokens),
            finish_reason=finish_reason,
        )

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"
