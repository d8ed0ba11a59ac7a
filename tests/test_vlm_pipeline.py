"""The OpenAI-compatible backend against a loopback server, and the bounded pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pictune.corpus import CorpusIndex, FeatureEmbedder
from pictune.models import BackendError
from pictune.models.vlm import GenerationOptions, Message, OpenAIBackend
from pictune.pipeline.composer import VlmComposer
from pictune.pipeline.config import Settings
from pictune.pipeline.record import Composition

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
TUNE = """Here is my piece.
```abc
X:1
T:Harbour
M:3/4
L:1/8
Q:1/4=80
K:Dm
D2 F2 A2|d4 c2|B2 G2 E2|F4 E2|D2 F2 A2|d4 A2|G2 E2 C2|D6|]
```
Motivation: the dark blue water suggests D minor and a slow 3/4 swell."""
BROKEN = """```
T:Harbour
K:D minor
M:3/4
d,2 F2 A2|[d4 c2|B2 G2 E2|D6|]
```
The calm sea."""


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


def settings(**values) -> Settings:
    return Settings(backend="openai", model="fake-vlm", **values)


def backend(server, **options) -> OpenAIBackend:
    return OpenAIBackend(
        model="fake-vlm", base_url=server.url, api_key="sk-secret-123", backoff=0.01, **options
    )


def test_full_run_describes_retrieves_corrects_and_refines(server, index, tmp_path):
    server.replies = [
        (200, "A harbour at dusk: deep blue water, orange lights, boats at rest.", 0),
        (200, "I am not sure I can write music.", 0),
        (200, BROKEN, 0),
        (200, TUNE, 0),
    ]
    composer = VlmComposer(backend(server), index, FeatureEmbedder(), settings(k=2, rounds=1))
    result = composer.compose(EXAMPLE, prompt="a slow waltz", seed=5)
    assert result.ok, result.status
    assert [r.kind for r in result.rounds] == ["describe", "compose", "correct", "refine"]
    assert result.chosen_round in (2, 3)
    # The chosen round's motivation: the corrected tune's or the refined one's, whichever
    # lies nearer the references' metric ranges.
    assert result.motivation == result.rounds[result.chosen_round].motivation
    assert "calm sea" in result.motivation or "dark blue" in result.motivation
    first = server.requests[0]["body"]
    content = first["messages"][0]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "a slow waltz" in content[-1]["text"]
    assert first["seed"] == 6 and first["model"] == "fake-vlm"
    assert server.requests[0]["auth"] == "Bearer sk-secret-123"
    compose_text = server.requests[1]["body"]["messages"][0]["content"][-1]["text"]
    assert "Caption:" in compose_text and "do not reproduce them" in compose_text
    assert compose_text.count("Caption:") == len(result.references)
    correction = server.requests[2]["body"]["messages"][-1]["content"]
    assert "contains no ABC tune" in correction
    refine = server.requests[3]["body"]["messages"][0]["content"][-1]["text"]
    assert "pitch_range =" in refine and "references" in refine and "empty_beat_rate" in refine
    # BROKEN's motivation is checked; TUNE's claims (D minor, slow 3/4) hold for TUNE
    refined = result.rounds[3]
    assert {c["aspect"] for c in refined.claims} >= {"key", "meter"}
    assert "sk-secret-123" not in json.dumps(result.to_dict())
    result.save(tmp_path / "run")
    again = Composition.load(tmp_path / "run")
    assert again.rounds == result.rounds and again.references == result.references
    assert again.abc == result.abc and again.midi == result.midi
    assert json.loads((tmp_path / "run" / "report.json").read_text()) == again.to_dict()
    assert (tmp_path / "run" / "music.mid").is_file()
    assert (tmp_path / "run" / "motivation.txt").is_file()


def test_a_model_that_never_writes_abc_fails_after_the_attempts(server, index, tmp_path):
    server.replies = [(200, "a description", 0)] + [(200, "no music, sorry", 0)] * 5
    composer = VlmComposer(backend(server), index, FeatureEmbedder(), settings(max_attempts=3))
    result = composer.compose(EXAMPLE)
    assert not result.ok and "no playable tune in 3 attempts" in result.status
    assert len(server.requests) == 4  # describe + 3 attempts, never more
    assert len(result.rounds) == 4
    result.save(tmp_path / "failed")
    assert Composition.load(tmp_path / "failed").status == result.status


def test_budget_of_calls_ends_the_run_with_the_best_so_far(server, index):
    server.replies = [(200, "a description", 0), (200, TUNE, 0), (200, TUNE, 0)]
    result = VlmComposer(
        backend(server), index, FeatureEmbedder(), settings(max_calls=2, rounds=3)
    ).compose(EXAMPLE)
    assert result.ok and result.abc and len(server.requests) == 2


def test_server_error_then_success_is_retried(server):
    server.replies = [(503, "overloaded", 0), (500, "oops", 0), (200, "fine", 0)]
    reply = backend(server).generate([Message("user", "hi")], GenerationOptions())
    assert reply.text == "fine" and len(server.requests) == 3


def test_persistent_server_errors_give_up_after_the_retries(server):
    server.replies = [(500, "broken", 0)] * 10
    with pytest.raises(BackendError, match="kept failing"):
        backend(server, retries=2).generate([Message("user", "hi")], GenerationOptions())
    assert len(server.requests) == 3


def test_hanging_server_times_out(server):
    server.replies = [(200, "late", 2.0)]
    with pytest.raises(BackendError, match=r"did not answer within 0\.3 s"):
        backend(server, timeout=0.3).generate([Message("user", "hi")], GenerationOptions())


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, "bad key sk-secret-123", "refused the API key"),
        (404, "The model `fake-vlm` does not exist", "does not serve model"),
        (404, "not found", "no chat-completions endpoint"),
    ],
)
def test_client_errors_are_one_line_and_never_show_the_key(server, status, body, message):
    server.replies = [(status, body, 0)]
    with pytest.raises(BackendError, match=message) as caught:
        backend(server).generate([Message("user", "hi")], GenerationOptions())
    if status == 401:
        assert "sk-secret-123" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_refused_connection():
    closed = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(BackendError, match="connection refused"):
        closed.generate([Message("user", "hi")], GenerationOptions())


def test_key_is_not_in_the_backend_repr():
    assert "sk-" not in repr(OpenAIBackend(model="m", api_key="sk-secret"))


def test_cli_compose_with_an_openai_server(server, index, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pictune.cli.app import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PICTUNE_OPENAI_API_KEY", "sk-secret-123")
    server.replies = [(200, "a harbour at dusk", 0), (200, TUNE, 0), (200, TUNE, 0)]
    out = str(tmp_path / "o")
    args = ["compose", str(EXAMPLE), "--backend", "openai", "--model", "fake-vlm",
            "--base-url", server.url, "--corpus", str(index.folder), "--out", out]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "music.abc").is_file()
    assert "sk-secret-123" not in (tmp_path / "o" / "report.json").read_text()
    assert server.requests[0]["auth"] == "Bearer sk-secret-123"


def test_config_precedence(tmp_path, monkeypatch):
    from pictune.errors import InputError
    from pictune.pipeline.config import load_settings

    monkeypatch.setenv("PICTUNE_BACKEND", "openai")
    monkeypatch.setenv("PICTUNE_MODEL", "from-env")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    project = tmp_path / "pictune.toml"
    project.write_text('model = "from-project"\nrounds = 2\n')
    config = load_settings({"rounds": None}, config_file=project)
    # the environment outranks the project file; flags outrank both
    assert (config.backend, config.model, config.rounds) == ("openai", "from-env", 2)
    assert load_settings({"model": "from-flag"}, config_file=project).model == "from-flag"
    project.write_text("colour = 'red'\n")
    with pytest.raises(InputError, match="unknown setting 'colour'"):
        load_settings(config_file=project)
    project.write_text("rounds = [\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_settings(config_file=project)
    project.unlink()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="needs a model"):
        load_settings({"backend": "transformers", "model": ""})


def test_correction_prompt_carries_abc2midi_diagnostics(server, index):
    # abc2midi plays a hornpipe only in 2/4 or 4/4, and repair does not change the metre.
    unplayable = "```abc\nX:1\nT:t\nR:Hornpipe\nM:3/4\nL:1/8\nK:C\nA2 B2 c2|e6|\n```\nA calm piece."
    server.replies = [(200, "a description", 0), (200, unplayable, 0), (200, TUNE, 0)]
    composer = VlmComposer(backend(server), index, FeatureEmbedder(), settings(rounds=0))
    result = composer.compose(EXAMPLE)
    assert result.ok and [r.kind for r in result.rounds] == ["describe", "compose", "correct"]
    correction = server.requests[2]["body"]["messages"][-1]["content"]
    assert "Hornpipe must be in 2/4 or 4/4 time" in correction
    assert "A2 B2 c2|e6|" in correction  # the tune as it stands goes back with the diagnostics
    assert not result.rounds[1].valid and result.rounds[1].diagnostics


def test_contradicting_motivation_is_fed_back_in_the_refinement(server, index):
    drifting = TUNE.replace(
        "the dark blue water suggests D minor and a slow 3/4 swell", "a fast piece in G major"
    )
    server.replies = [(200, "a description", 0), (200, drifting, 0), (200, TUNE, 0)]
    VlmComposer(backend(server), index, FeatureEmbedder(), settings(rounds=1)).compose(EXAMPLE)
    refine = server.requests[2]["body"]["messages"][0]["content"][-1]["text"]
    assert "Your motivation contradicts your music" in refine
    assert "G major" in refine


def test_per_phrase_attention_is_kept_for_each_round(index):
    import numpy as np

    from pictune.models.vlm.base import Reply

    class TokenMapBackend:
        """Answers like a model that reports a map per token (one token per character)."""

        id = "token-maps"

        def __init__(self, texts):
            self.texts = list(texts)

        def generate(self, messages, options):
            text = self.texts.pop(0)
            maps = [np.full((2, 3), float(i)) for i in range(len(text))]
            extra = {"token_ends": list(range(1, len(text) + 1)), "token_maps": maps}
            return Reply(text=text, model="m", image_attention=np.mean(maps, axis=0), extra=extra)

    result = VlmComposer(
        TokenMapBackend(["a description", TUNE]), index, FeatureEmbedder(), settings(rounds=0)
    ).compose(EXAMPLE)
    chosen = result.rounds[result.chosen_round]
    assert {"bars 1–4", "bars 5–8"} <= set(chosen.phrase_attention)
    assert any(label.startswith("sentence") for label in chosen.phrase_attention)
    first, second = chosen.phrase_attention["bars 1–4"], chosen.phrase_attention["bars 5–8"]
    assert first[0][0] < second[0][0]  # later phrases were written by later tokens
    assert result.rounds[0].attention is not None
