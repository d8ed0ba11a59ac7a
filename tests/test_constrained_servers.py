"""The openai backend sends the ABC grammar in the field each server reads, says when a
server cannot take it, falls back once when one refuses it, and salvages a tune cut off by
the token budget. Tested against the loopback server."""

from __future__ import annotations

import pytest

from pictune.abc.grammar import grammar_version, reply_grammar
from pictune.errors import InputError
from pictune.models.vlm import GenerationOptions, Message, OpenAIBackend
from pictune.pipeline.api import make_backend
from pictune.pipeline.config import load_settings

TUNE = "Here.\n```abc\nX:1\nM:4/4\nL:1/8\nK:G\nGABc d2B2|c2A2 B2G2|\n```\nA calm tune."
CUT = "Here.\n```abc\nX:1\nM:4/4\nL:1/8\nK:G\nGABc d2B2|c2A2 B2G2|A2F2 G"
COMPOSE = GenerationOptions(seed=1, max_tokens=64, constrain=True)


def backend(loopback, **options) -> OpenAIBackend:
    return OpenAIBackend(model="fake-vlm", base_url=loopback.url, backoff=0.01, **options)


def ask(client: OpenAIBackend, options: GenerationOptions = COMPOSE):
    return client.generate([Message("user", "Compose.")], options)


def test_llama_cpp_gets_gbnf_in_grammar(server):
    server.replies = [(200, TUNE, 0)]
    reply = ask(backend(server, server="llamacpp"))
    body = server.requests[0]["body"]
    assert body["grammar"] == reply_grammar()
    assert "structured_outputs" not in body and "guided_grammar" not in body
    assert reply.extra["constraint"] == {
        "constrained": True, "grammar_version": grammar_version(), "server": "llamacpp",
        "mask_us_per_token": None, "field": "grammar",
    }  # fmt: skip
    assert reply.text == TUNE


def test_recent_vllm_gets_structured_outputs(server):
    server.documents["/version"] = {"version": "0.11.1"}
    server.replies = [(200, TUNE, 0)]
    reply = ask(backend(server, server="auto"))
    body = server.requests[0]["body"]
    assert body["structured_outputs"] == {"grammar": reply_grammar()}
    assert reply.extra["constraint"]["server"] == "vllm"


def test_older_vllm_gets_guided_grammar(server):
    server.documents["/version"] = {"version": "0.9.2"}
    server.replies = [(200, TUNE, 0)]
    reply = ask(backend(server, server="vllm"))
    assert server.requests[0]["body"]["guided_grammar"] == reply_grammar()
    assert reply.extra["constraint"]["field"] == "guided_grammar"


def test_auto_finds_a_llama_cpp_server(server):
    server.documents["/props"] = {"default_generation_settings": {}}
    server.replies = [(200, TUNE, 0)]
    ask(backend(server))
    assert "grammar" in server.requests[0]["body"]


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_servers_without_grammars_get_a_one_line_note(server, kind):
    server.replies = [(200, TUNE, 0)]
    reply = ask(backend(server, server=kind))
    body = server.requests[0]["body"]
    assert not {"grammar", "guided_grammar", "structured_outputs"} & set(body)
    constraint = reply.extra["constraint"]
    assert constraint["constrained"] is False
    assert constraint["note"] == f"{kind} servers take no grammar; this call was not constrained"


def test_an_unknown_server_is_treated_as_one_without_grammars(server):
    server.replies = [(200, TUNE, 0)]
    reply = ask(backend(server))  # the loopback server answers no probe
    assert reply.extra["constraint"]["server"] == "openai"


def test_a_server_that_refuses_the_field_is_asked_once_more_without_it(server):
    server.replies = [(400, "unknown field: grammar", 0), (200, TUNE, 0)]
    reply = ask(backend(server, server="llamacpp"))
    assert [("grammar" in r["body"]) for r in server.requests] == [True, False]
    constraint = reply.extra["constraint"]
    assert constraint["constrained"] is False
    assert "rejected the grammar field (400: unknown field: grammar)" in constraint["note"]
    assert reply.text == TUNE


def test_a_refusal_without_a_grammar_is_an_error_as_before(server):
    from pictune.models import BackendError

    server.replies = [(400, "bad request", 0), (200, TUNE, 0)]
    with pytest.raises(BackendError, match="400"):
        ask(backend(server, server="llamacpp"), GenerationOptions(seed=1))
    assert len(server.requests) == 1


def test_describe_calls_and_constrained_off_send_no_grammar(server):
    server.replies = [(200, TUNE, 0), (200, TUNE, 0)]
    free = ask(backend(server, server="llamacpp"), GenerationOptions(seed=1))
    off = ask(backend(server, server="llamacpp", constrained="off"))
    assert all("grammar" not in r["body"] for r in server.requests)
    assert "constraint" not in free.extra
    assert off.extra["constraint"] == {"constrained": False, "note": "constrained = off"}


def test_a_tune_cut_by_the_token_budget_keeps_its_complete_bars(server):
    server.replies = [(200, CUT, 0, "length")]
    reply = ask(backend(server, server="llamacpp"))
    assert reply.text.endswith("K:G\nGABc d2B2|c2A2 B2G2|\n```\n")


def test_an_unconstrained_cut_reply_is_left_as_it_came(server):
    server.replies = [(200, CUT, 0, "length")]
    reply = ask(backend(server, server="ollama"))
    assert reply.text == CUT


def test_settings_are_validated_and_reach_the_backends(tmp_path):
    project = tmp_path / "empty.toml"
    project.write_text("")
    config = load_settings(
        {"backend": "openai", "model": "m", "constrained": "off", "server": "vllm"},
        config_file=project,
    )
    client = make_backend(config)
    assert (client.constrained, client.server) == ("off", "vllm")
    assert load_settings(config_file=project).constrained == "auto"
    with pytest.raises(InputError, match="constrained"):
        load_settings({"constrained": "always"}, config_file=project)
    with pytest.raises(InputError, match="server"):
        load_settings({"server": "tgi"}, config_file=project)


def test_each_round_records_its_constraint(server, small_index_folder):
    from pathlib import Path

    from pictune.corpus import CorpusIndex, FeatureEmbedder
    from pictune.pipeline.composer import VlmComposer
    from pictune.pipeline.config import Settings

    picture = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"
    server.replies = [(200, "A calm harbour.", 0), (200, TUNE, 0)]
    composer = VlmComposer(
        backend(server, server="llamacpp"),
        CorpusIndex(small_index_folder),
        FeatureEmbedder(),
        Settings(backend="openai", model="fake-vlm", rounds=0),
    )
    result = composer.compose(picture)
    assert [r.kind for r in result.rounds] == ["describe", "compose"]
    assert result.rounds[0].constraint is None
    assert result.rounds[1].constraint is not None
    assert result.rounds[1].constraint["constrained"] is True
    assert result.rounds[1].constraint["grammar_version"] == grammar_version()
    assert "grammar" not in server.requests[0]["body"] and "grammar" in server.requests[1]["body"]
