"""make_backend: common settings and user options sent to the backend factory by its signature."""
import pytest

from quadiv.errors import UsageError
from quadiv.generate import BACKENDS, make_backend


def local(model, *, device=None, engine_kwargs=None):
    return {"model": model, "device": device, "engine_kwargs": engine_kwargs}


def test_options_go_where_the_factory_takes_them(monkeypatch):
    monkeypatch.setitem(BACKENDS, "local-test", local)
    built = make_backend("local-test", "m", {"device": "cpu", "max_len": 8}, base_url=None, concurrency=4)
    assert built == {"model": "m", "device": "cpu", "engine_kwargs": {"max_len": 8}}


def test_a_factory_with_kwargs_gets_every_setting(monkeypatch):
    monkeypatch.setitem(BACKENDS, "kw-test", lambda model, **kw: kw)
    assert make_backend("kw-test", "m", {"a": 1}, base_url="http://x", timeout=None) == {"base_url": "http://x", "a": 1}


def test_wrong_settings_are_usage_errors(monkeypatch):
    monkeypatch.setitem(BACKENDS, "plain-test", lambda model, device=None: None)
    with pytest.raises(UsageError, match="`base_url` is for `backend` openai"):
        make_backend("plain-test", "m", base_url="http://x")
    with pytest.raises(UsageError, match="has no option 'colour'; its options are: device"):
        make_backend("plain-test", "m", {"colour": "red"})
    with pytest.raises(UsageError, match="unknown backend"):
        make_backend("nope", "m")
