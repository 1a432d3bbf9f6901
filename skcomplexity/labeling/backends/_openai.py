"""Any OpenAI-compatible chat completions server, through the ``openai`` client."""

from __future__ import annotations

import json
import os
import random
import time

from ._base import Backend, BackendError, BackendTimeoutError

__all__ = ["OpenAIBackend"]

# Statuses worth another try: request timeout, lock conflict, rate limit, server errors.
_RETRY_STATUSES = frozenset({408, 409, 429})
# A local server (llama.cpp, vLLM, Ollama) ignores the key but the client insists on one.
_PLACEHOLDER_KEY = "sk-no-key-required"


class OpenAIBackend(Backend):
    """A model served behind the OpenAI chat completions API.

    Works with OpenAI itself and with any compatible server (llama.cpp's
    ``python -m llama_cpp.server``, vLLM, Ollama...) through ``base_url``. Retries on
    rate limits (429), server errors (5xx, 408, 409), time-outs and connection errors,
    waiting ``backoff * 2**attempt`` seconds (at most ``backoff_max``, or the server's
    ``Retry-After`` when it gives one, jittered by up to half so that parallel workers do
    not retry in step). The retry loop is ours, not the client's, so that the final
    :class:`BackendError` can say how many attempts were made and what the last one got.

    Parameters
    ----------
    model : str
        Model id sent to the server, e.g. ``"gpt-4o-mini"``.
    base_url : str, optional
        Endpoint such as ``"http://127.0.0.1:8000/v1"``. None means OpenAI's.
    api_key_env : str, default="OPENAI_API_KEY"
        Environment variable holding the key. It is read when the client is created, so the
        key never enters the backend's name, repr or pickle. When it is unset and
        ``base_url`` is given, a placeholder key is sent (local servers need a non-empty one).
    timeout : float, default=60.0
        Seconds allowed per attempt.
    max_retries : int, default=4
        Further attempts after the first one fails with a retryable error.
    backoff : float, default=1.0
        Wait before the first retry, in seconds; doubles at each retry.
    backoff_max : float, default=30.0
        Upper bound on any wait between attempts.
    price_per_1k, price_per_1k_prompt, price_per_1k_completion : float, optional
        Prices per 1,000 tokens used for :attr:`Completion.cost`; see :class:`Backend`.

    Examples
    --------
    >>> from skcomplexity.labeling.backends import OpenAIBackend
    >>> backend = OpenAIBackend("smollm2", base_url="http://127.0.0.1:8000/v1/",
    ...                         price_per_1k=0.5)
    >>> backend.name
    'openai:smollm2@http://127.0.0.1:8000/v1'
    >>> backend.cache_params()
    {'backend': 'openai', 'model': 'smollm2', 'base_url': 'http://127.0.0.1:8000/v1'}
    >>> backend.cost(prompt_tokens=120, completion_tokens=80)
    0.1
    """

    def __init__(self, model, *, base_url=None, api_key_env="OPENAI_API_KEY", timeout=60.0,
                 max_retries=4, backoff=1.0, backoff_max=30.0, price_per_1k=None,
                 price_per_1k_prompt=None, price_per_1k_completion=None):
        super().__init__(price_per_1k=price_per_1k, price_per_1k_prompt=price_per_1k_prompt,
                         price_per_1k_completion=price_per_1k_completion)
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self._client = None

    @property
    def _url(self):
        return None if self.base_url is None else self.base_url.rstrip("/")

    @property
    def name(self):
        return f"openai:{self.model}" + (f"@{self._url}" if self._url else "")

    def cache_params(self):
        return {"backend": "openai", "model": self.model,
                "base_url": self._url or "https://api.openai.com/v1"}

    def _error(self, message, cls=BackendError, **context):
        return cls(message, model=self.model, base_url=self._url or "https://api.openai.com/v1",
                   **context)

    def _get_client(self):
        if self._client is None:
            import openai

            api_key = os.environ.get(self.api_key_env)
            if not api_key:
                if self._url is None:
                    raise self._error(
                        f"No API key: set the environment variable {self.api_key_env!r}, or "
                        "pass base_url for a server that needs none."
                    )
                api_key = _PLACEHOLDER_KEY
            self._client = openai.OpenAI(api_key=api_key, base_url=self._url,
                                         timeout=self.timeout, max_retries=0)
        return self._client

    def _delay(self, attempt, retry_after=None):
        delay = self.backoff * 2**attempt if retry_after is None else retry_after
        return min(delay, self.backoff_max) * random.uniform(0.5, 1.0)

    def generate(self, messages, *, temperature=0.8, max_tokens=512, seed=None):
        """Ask the server for one chat completion; see :meth:`Backend.generate`.

        Raises
        ------
        BackendError
            After ``max_retries`` retries, on a non-retryable status (400, 401, 404...) or
            on a response that is not a chat completion (malformed JSON included).
        BackendTimeoutError
            If the last attempt timed out.
        """
        import openai

        client = self._get_client()
        request = {"model": self.model, "messages": messages, "temperature": temperature,
                   "max_tokens": max_tokens}
        if seed is not None:
            request["seed"] = seed
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            retry_after = None
            try:
                response = client.chat.completions.create(**request)
            except openai.APITimeoutError as exc:
                last, status, error_cls = exc, "timeout", BackendTimeoutError
            except openai.APIConnectionError as exc:
                last, status, error_cls = exc, "connection error", BackendError
            except openai.APIStatusError as exc:
                last, status, error_cls = exc, exc.status_code, BackendError
                if status not in _RETRY_STATUSES and status < 500:
                    raise self._error(f"Request refused: {_summary(exc)}", attempts=attempt + 1,
                                      status=status) from exc
                retry_after = _retry_after(exc.response)
            except (ValueError, openai.APIResponseValidationError) as exc:
                # json.JSONDecodeError (a ValueError): the body said JSON but was not.
                raise self._error(f"Malformed JSON in the response: {_summary(exc)}",
                                  attempts=attempt + 1, status=200) from exc
            else:
                return self._parse(response, attempts=attempt + 1)
            if attempt + 1 < attempts:
                time.sleep(self._delay(attempt, retry_after))
        raise self._error(f"No completion after {attempts} attempts: {_summary(last)}",
                          error_cls, attempts=attempts, status=status) from last

    def _parse(self, response, *, attempts):
        # The client returns the raw text when the content type is not JSON, and builds a
        # model without validation when it is: check the shape before trusting it.
        choices = getattr(response, "choices", None)
        message = getattr(choices[0], "message", None) if choices else None
        if message is None:
            body = response if isinstance(response, str) else _dump(response)
            raise self._error(f"Malformed response, not a chat completion: {body[:200]!r}",
                              attempts=attempts, status=200)
        usage = getattr(response, "usage", None)
        return self._completion(
            message.content or "",
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            getattr(choices[0], "finish_reason", None),
        )

    def __getstate__(self):
        # The HTTP client holds sockets and locks; each process makes its own.
        state = self.__dict__.copy()
        state["_client"] = None
        return state


def _summary(exc):
    return f"{type(exc).__name__}: {exc}"


def _retry_after(response):
    try:
        return max(0.0, float(response.headers.get("retry-after")))
    except (TypeError, ValueError, AttributeError):
        return None


def _dump(response):
    try:
        return json.dumps(response.model_dump(), default=str)
    except Exception:  # noqa: BLE001 - only for the error message
        return repr(response)
