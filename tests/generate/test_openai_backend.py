"""The openai backend against the local fake server: probing, n, seeds, retries, refusals, key hygiene."""
from __future__ import annotations

import email.utils
import socket
import time

import pytest
from conftest import sample_words

from quadiv.errors import UsageError
from quadiv.generate import BackendRequestError, GenRequest, OpenAIBackend, get_backend

ALL = {"chat", "n_samples", "seed", "top_logprobs", "min_p", "top_k", "structured_output"}


def chat(text: str, **options) -> GenRequest:
    return GenRequest(messages=[{"role": "user", "content": text}], max_tokens=64, **options)


def backend(url: str, **options) -> OpenAIBackend:
    options.setdefault("backoff", 0.001)
    return OpenAIBackend("test-model", base_url=url, api_key="sk-test", **options)


def test_probe_finds_every_feature_of_a_full_server_in_one_request(fake_openai):
    server, url = fake_openai()
    assert backend(url).capabilities == ALL
    assert len(server.requests) == 1 and server.requests[0]["max_tokens"] == 1


def test_probe_runs_once_per_server_and_model(fake_openai):
    server, url = fake_openai()
    assert backend(url).capabilities == ALL
    assert backend(url).capabilities == ALL
    assert len(server.requests) == 1


@pytest.mark.parametrize("options, expected", [
    ({"n_mode": "ignore"}, ALL - {"n_samples"}),
    ({"n_mode": "reject", "extensions": False, "logprobs": False, "structured": False}, {"chat", "seed"}),
    ({"structured": False}, ALL - {"structured_output"}),
    ({"extensions": False}, ALL - {"min_p", "top_k"}),
])
def test_probe_falls_back_to_one_feature_at_a_time(fake_openai, options, expected):
    _, url = fake_openai(**options)
    assert backend(url).capabilities == expected


def test_given_capabilities_skip_the_probe(fake_openai):
    server, url = fake_openai()
    assert backend(url, capabilities={"seed"}).capabilities == {"chat", "seed"}
    assert server.requests == []


def test_n_honoured_is_one_request_with_n(fake_openai):
    server, url = fake_openai()
    (out,) = backend(url, capabilities=ALL).generate([chat("a poem", n=3, seed=7)])
    assert [c.text for c in out] == [" ".join(sample_words("a poem", 7, i, 64)) for i in range(3)]
    assert len(server.requests) == 1 and server.requests[0]["n"] == 3 and server.requests[0]["seed"] == 7


def test_n_not_honoured_becomes_n_requests_with_seeds_seed_plus_i(fake_openai):
    server, url = fake_openai(n_mode="ignore")
    (out,) = backend(url).generate([chat("a poem", n=4, seed=10)])
    assert [c.text for c in out] == [" ".join(sample_words("a poem", 10 + i, 0, 64)) for i in range(4)]
    sent = server.requests[1:]  # after the probe
    assert sorted(r["seed"] for r in sent) == [10, 11, 12, 13] and all("n" not in r for r in sent)


def test_several_requests_keep_their_order(fake_openai):
    _, url = fake_openai()
    outs = backend(url, capabilities=ALL).generate([chat(f"p{i}", seed=1) for i in range(6)])
    assert [o[0].text for o in outs] == [" ".join(sample_words(f"p{i}", 1, 0, 64)) for i in range(6)]


def test_sampling_fields_and_logprobs_reach_the_server(fake_openai):
    server, url = fake_openai()
    request = chat("x", temperature=0.3, top_p=0.9, min_p=0.1, top_k=20, logprobs=2, stop=["\n"], seed=1)
    (out,) = backend(url).generate([request])
    sent = server.requests[-1]
    assert (sent["temperature"], sent["top_p"], sent["min_p"], sent["top_k"]) == (0.3, 0.9, 0.1, 20)
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2 and sent["stop"] == ["\n"]
    words = out[0].text.split()
    assert out[0].token_logprobs == [-1.0] * len(words) and list(out[0].top_logprobs[0]) == [words[0]]


def test_a_field_the_server_lacks_is_refused_before_sending(fake_openai):
    server, url = fake_openai(extensions=False)
    model = backend(url)
    assert "min_p" not in model.capabilities
    probes = len(server.requests)
    with pytest.raises(UsageError, match="min_p"):
        model.generate([chat("x", min_p=0.1)])
    assert len(server.requests) == probes


def test_raw_prompts_are_refused(fake_openai):
    _, url = fake_openai()
    with pytest.raises(UsageError, match="raw_completion"):
        backend(url, capabilities=ALL).generate([GenRequest(prompt="Once upon")])


def test_failures_stalls_and_rate_limits_are_retried_to_the_right_answer(fake_openai):
    server, url = fake_openai(fail_rate=0.3, stall_rate=0.1, stall_seconds=5, rate_limit_rate=0.1, retry_after=0.01)
    model = backend(url, capabilities=ALL, timeout=0.3, concurrency=8)
    outs = model.generate([chat(f"p{i}", seed=3) for i in range(30)])
    assert [o[0].text for o in outs] == [" ".join(sample_words(f"p{i}", 3, 0, 64)) for i in range(30)]
    assert {500, 429} <= set(server.statuses)
    usage = model.usage()
    assert usage["retries"] > 0 and usage["requests"] == 30 + usage["retries"]


def test_giving_up_after_max_retries(fake_openai):
    server, url = fake_openai(fail_rate=1.0)
    with pytest.raises(BackendRequestError, match="still failing after 3 tries, last HTTP 500"):
        backend(url, capabilities=ALL, max_retries=2).generate([chat("x")])
    assert len(server.requests) == 3


def test_a_wrong_key_is_one_line_naming_server_and_model_without_the_key(fake_openai):
    server, url = fake_openai(api_key="sk-right")
    bad = OpenAIBackend("test-model", base_url=url, api_key="sk-secret-wrong-key")
    with pytest.raises(BackendRequestError) as err:
        bad.generate([chat("x")])
    message = str(err.value)
    assert "401" in message and url in message and "test-model" in message and "OPENAI_API_KEY" in message
    assert "sk-secret-wrong-key" not in message and "\n" not in message and "Bearer" not in message
    assert len(server.requests) == 1  # a refusal is not retried


def test_the_key_comes_from_the_environment(fake_openai, monkeypatch):
    _, url = fake_openai(api_key="sk-right")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("QUADIV_API_KEY", "sk-right")
    assert OpenAIBackend("m", base_url=url).capabilities == ALL
    assert "sk-right" not in repr(OpenAIBackend("m", base_url=url))


def test_an_unknown_model_names_the_model(fake_openai):
    _, url = fake_openai(models=("real-model",))
    with pytest.raises(BackendRequestError, match="refused model 'test-model' with HTTP 404.*check the model name"):
        backend(url).generate([chat("x")])


def test_connection_refused_is_retried_then_reported(fake_openai):
    server, url = fake_openai()
    server.stop()
    with pytest.raises(BackendRequestError, match="ConnectError"):
        backend(url, capabilities=ALL, max_retries=1).generate([chat("x")])


def test_in_flight_requests_never_exceed_concurrency(fake_openai):
    server, url = fake_openai(latency=0.02, n_mode="ignore")
    backend(url, concurrency=3).generate([chat("x", n=24, seed=0)])
    assert 2 <= server.max_in_flight <= 3


def test_backoff_is_full_jitter_and_retry_after_wins():
    model = OpenAIBackend("m", base_url="http://127.0.0.1:9", backoff=0.5, max_backoff=3.0, capabilities=ALL)
    for attempt, cap in ((0, 0.5), (2, 2.0), (5, 3.0)):
        waits = [model._wait(attempt, None) for _ in range(2000)]
        assert 0 <= min(waits) < 0.1 * cap and 0.9 * cap < max(waits) <= cap
    assert model._wait(3, "2.5") == 2.5
    assert model._wait(0, "soon") <= 0.5
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 < model._wait(0, later) <= 20


def test_registered_as_openai():
    model = get_backend("openai", "m", base_url="http://127.0.0.1:9/v1/", capabilities=ALL)
    assert isinstance(model, OpenAIBackend) and model.base_url == "http://127.0.0.1:9/v1"


def free_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("url", [f"http://127.0.0.1:{free_port()}/v1", "http://nonexistent.invalid/v1"])
def test_a_refused_connection_or_unknown_host_fails_after_one_quick_retry(url):
    model = OpenAIBackend("m", base_url=url, api_key="sk-test", capabilities=ALL, backoff=60.0)
    with pytest.raises(BackendRequestError) as err:
        model.generate([chat("x")])
    message = str(err.value)
    assert f"{url}/chat/completions" in message and "ConnectError" in message and "cannot connect" in message
    assert "overloaded" not in message and "API key" not in message
    assert model.usage()["requests"] == 2  # not max_retries + 1 = 9 with up to 60 s waits


def test_without_base_url_or_key_the_error_says_public_endpoint_and_no_key(monkeypatch):
    for name in ("OPENAI_API_KEY", "QUADIV_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("quadiv._http.DEFAULT_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    model = OpenAIBackend("gpt-x")
    with pytest.raises(BackendRequestError) as err:
        model.generate([chat("x")])
    message = str(err.value)
    assert "no --base-url was given" in message and "public OpenAI endpoint" in message
    assert "no API key was found (OPENAI_API_KEY" in message and model.usage()["requests"] == 2


def test_max_retries_zero_tries_a_refused_connection_once():
    model = OpenAIBackend("m", base_url=f"http://127.0.0.1:{free_port()}", capabilities=ALL, max_retries=0)
    with pytest.raises(BackendRequestError, match="after 1 try,"):
        model.generate([chat("x")])
    assert model.usage()["requests"] == 1


def test_a_refused_probe_keeps_the_servers_message(fake_openai):
    server, url = fake_openai(pinned="served-model")
    with pytest.raises(BackendRequestError) as err:
        OpenAIBackend("no-such-model", base_url=url).generate([chat("x")])
    message = str(err.value)
    assert "HTTP 400: Server is pinned to 'served-model'; requested 'no-such-model'" in message
    assert "minimal chat request" in message and len(server.requests) == 2  # everything, then the minimal one


def test_structured_output_reaches_the_server_as_response_format(fake_openai):
    server, url = fake_openai()
    schema = {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}}
    backend(url).generate([chat("x", extra={"response_format": schema})])
    assert "response_format" in server.requests[0] and server.requests[-1]["response_format"] == schema


def test_declared_capabilities_are_checked():
    with pytest.raises(UsageError, match="unknown capability 'structured'.*structured_output"):
        OpenAIBackend("m", base_url="http://127.0.0.1:9", capabilities={"structured", "seed"})


def test_a_base_url_without_scheme_is_a_usage_error():
    with pytest.raises(UsageError, match="must start with http"):
        OpenAIBackend("m", base_url="localhost:8000/v1")
