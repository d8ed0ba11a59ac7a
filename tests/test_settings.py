"""One Settings object: checked when built, from defaults < user config < project config <
environment < flags, every setting settable in every layer and shown with its source."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from typer.testing import CliRunner

from pictune.cli.app import app
from pictune.errors import InputError
from pictune.pipeline.config import Settings, load_settings, resolve_settings


@pytest.fixture
def layers(tmp_path, monkeypatch):
    """An empty user config folder and an empty project folder, with no PICTUNE_ variables."""
    import os

    for name in list(os.environ):
        if name.startswith("PICTUNE_") and name != "PICTUNE_INDEX_DIR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config" / "pictune").mkdir(parents=True)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"k": -1}, "k must be between 0 and 50"),
        ({"rounds": 11}, "rounds must be between 0 and 10"),
        ({"bars": 2}, "bars must be between 4 and 64"),
        ({"max_attempts": 0}, "max_attempts must be between 1"),
        ({"temperature": 3.0}, "temperature must be between"),
        ({"backend": "cloud"}, "unknown backend 'cloud'"),
        ({"backend": "openai"}, "the openai backend needs a model"),
        ({"rounds": "2"}, "rounds must be a whole number"),
        ({"consistency_feedback": 1}, "consistency_feedback must be true or false"),
        ({"corpus": " "}, "corpus must name an index"),
        ({"constrained": "always"}, "unknown constrained 'always'"),
        ({"server": "tgi"}, "unknown server 'tgi'"),
    ],
)
def test_bad_settings_are_refused_when_built(values, message):
    with pytest.raises(InputError, match=message):
        Settings(**values)


def test_numbers_are_accepted_where_numbers_are_meant():
    assert Settings(max_seconds=60).max_seconds == 60.0
    assert Settings(k=0).references == 0
    assert Settings().references == 5 and Settings(backend="openai", model="m").references == 1


def test_layers_in_order_of_precedence(layers, monkeypatch):
    (layers / "config" / "pictune" / "pictune.toml").write_text("rounds = 4\nbars = 24\nk = 2\n")
    (layers / "project" / "pictune.toml").write_text("rounds = 3\nbars = 20\n")
    monkeypatch.setenv("PICTUNE_ROUNDS", "2")
    resolved = resolve_settings({"bars": None, "max_attempts": 5})
    s = resolved.settings
    assert (s.k, s.bars, s.rounds, s.max_attempts) == (2, 20, 2, 5)
    assert resolved.sources["k"] == "user config"
    assert resolved.sources["bars"] == "project config"
    assert resolved.sources["rounds"] == "environment"
    assert resolved.sources["max_attempts"] == "flag"
    assert resolved.sources["temperature"] == "default"


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_can_be_set_in_every_layer(layers, monkeypatch, name):
    value = {
        "backend": "openai", "model": "m", "base_url": "http://127.0.0.1:1/v1",
        "api_key": "sk-x", "device": "cpu", "corpus": "mine", "embedder": "features",
        "k": 3, "rounds": 2, "bars": 24, "max_attempts": 4, "example_bars": 8,
        "consistency_feedback": False, "max_calls": 7, "max_seconds": 30.0,
        "temperature": 0.2, "max_tokens": 512, "constrained": "off", "server": "vllm",
            "moods": "keywords",
    }[name]  # fmt: skip
    extra = {} if name in ("backend", "model") else {"backend": "offline"}
    if name == "backend":
        extra = {"model": "m"}
    text = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
    for layer in ("user", "project", "environment", "flag"):
        monkeypatch.delenv(f"PICTUNE_{name.upper()}", raising=False)
        for path in (layers / "config" / "pictune" / "pictune.toml",
                     layers / "project" / "pictune.toml"):  # fmt: skip
            path.unlink(missing_ok=True)
        flags = dict(extra)
        if layer == "user":
            (layers / "config" / "pictune" / "pictune.toml").write_text(f"{name} = {text}\n")
        elif layer == "project":
            (layers / "project" / "pictune.toml").write_text(f"{name} = {text}\n")
        elif layer == "environment":
            monkeypatch.setenv(f"PICTUNE_{name.upper()}", str(value))
        else:
            flags[name] = value
        assert getattr(load_settings(flags), name) == value, layer


def test_a_named_config_file_replaces_the_project_one_and_must_exist(layers):
    (layers / "project" / "pictune.toml").write_text("rounds = 3\n")
    other = layers / "other.toml"
    other.write_text("[pictune]\nrounds = 0\n")
    assert load_settings(config_file=other).rounds == 0
    with pytest.raises(InputError, match="no such config file"):
        load_settings(config_file=layers / "missing.toml")


def test_config_show_lists_every_setting_with_its_source(layers, monkeypatch):
    (layers / "project" / "pictune.toml").write_text("bars = 32\n")
    monkeypatch.setenv("PICTUNE_OPENAI_API_KEY", "sk-secret")
    result = CliRunner().invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert set(shown) == {f.name for f in fields(Settings)}
    assert shown["bars"] == {"value": 32, "source": "project config"}
    assert shown["api_key"]["source"] == "environment" and "sk-secret" not in result.output
    table = CliRunner().invoke(app, ["config", "show"])
    assert table.exit_code == 0 and "project config" in table.output
    bad = CliRunner().invoke(app, ["config", "show", "--config", str(layers / "nope.toml")])
    assert bad.exit_code == 2 and "no such config file" in bad.output
