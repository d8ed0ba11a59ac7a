"""The ABC reply grammar: what it accepts (every corpus tune a prompt shows), what it refuses,
its version, and the salvage of a reply cut off inside the tune."""

from __future__ import annotations

import random

import pytest

from pictune.abc.budget import cut_tune
from pictune.abc.convert import abc_to_midi_many
from pictune.abc.grammar import complete_bars, fit_to_grammar, grammar_version, reply_grammar
from pictune.abc.text import FIELD_LINE, header_end
from pictune.abc.tokens import tokenize_line
from pictune.corpus.sources.clean import clean_tune

pytest.importorskip("llguidance")

from pictune.models.vlm.constrained import GrammarCompiler, lark_grammar

SAMPLE = 2000
GOOD = """Here is my piece.
```abc
X:1
T:Harbour
M:3/4
L:1/8
Q:1/4=80
K:Dm
V:1 name="Violin" clef=treble
%%MIDI program 40
"Dm"D2 F2 A2|!fermata!d4 (c2|B2) G2 E2|[K:F] {g}F4- F2|(3DEF A2 [DFA]2:|
|:[V:1] d>c B/A/G/F/ ^G2|=B,2 z2 z2|[1 D6:|[2 D6|]
```
Motivation: the dark blue water suggests D minor and a slow 3/4 swell."""


def byte_tokenizer_json() -> str:
    """A tokenizer of single bytes (and an end token): every text tokenises one way."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)} | {"</s>": len(alphabet)}
    raw = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    return str(raw.to_str())


@pytest.fixture(scope="module")
def grammar():
    return GrammarCompiler().for_tokenizer_json(byte_tokenizer_json(), eos=256)


def reply(tune: str) -> str:
    return "Here it is.\n```abc\n" + tune.rstrip("\n") + "\n```\nWhy it sounds so."


def known_fault(tune: str) -> str | None:
    """What pictune's own ABC lexer finds wrong in a tune: a character it does not know, an
    unterminated decoration, or a header line that is no field (None when nothing)."""
    lines = tune.split("\n")
    end = header_end(lines)
    for line in lines[1 : end - 1]:
        if line and not FIELD_LINE.match(line) and not line.startswith("%"):
            return f"header line {line!r} is no field"
    for number, line in enumerate(lines[end:], end + 1):
        if FIELD_LINE.match(line) or line.startswith("%"):
            continue
        for token in tokenize_line(line, number):
            if token.kind == "other" and token.text not in "kUK ":
                return f"unknown {token.text!r} in line {number}"
            if token.kind == "decoration" and not token.text.endswith(("!", "+")):
                return f"unterminated decoration in line {number}"
    return None


def test_every_corpus_tune_shown_in_prompts_is_accepted(corpus_tunes, grammar):
    """Not tighter than the prompts' own examples: a sample of 2,000 builtin tunes, cleaned as
    the corpus cleans them, cut and fitted as the prompt shows them. The only tunes it may
    refuse are ones whose faults pictune's ABC lexer names too (typos in the source files)."""
    sample = random.Random(15).sample(corpus_tunes, SAMPLE)
    shown = []
    for tune, conversion in zip(sample, abc_to_midi_many([t.abc for t in sample]), strict=True):
        cleaned = clean_tune(tune.abc, conversion)
        if not isinstance(cleaned, str):
            shown.append(fit_to_grammar(cut_tune(cleaned[0], 16)[0]))
    # About 8% are dropped by the cleaner itself (abc2midi errors repair cannot mend).
    assert len(shown) > 0.9 * SAMPLE
    refused = [tune for tune in shown if not grammar.accepts(reply(tune))]
    unexplained = [tune[:300] for tune in refused if known_fault(tune) is None]
    assert unexplained == []
    assert len(refused) <= 0.005 * len(shown), [known_fault(t) for t in refused]


def test_a_tune_with_every_construct_is_accepted(grammar):
    assert grammar.accepts(GOOD)


def test_the_motivation_and_preamble_are_optional(grammar):
    assert grammar.accepts("```abc\nX:1\nK:C\nCDEF|\n```")


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("K:Dm\n", "K:H\n"),  # no such key
        ("L:1/8\n", "L:1/3\n"),  # no such unit
        ("M:3/4\n", "M:three\n"),
        ("[DFA]2:|", "[DFA2:|"),  # chord never closed
        ('"Dm"D2', '"DmD2'),  # chord symbol never closed
        ("!fermata!d4", "!fermata d4"),  # decoration never closed
        ("z2 z2|", "z2 ? z2|"),  # a character ABC does not have
        ("D6|]\n```", "D6|]\n\n\nX:2\n```"),  # a second tune
        ("```abc\nX:1\n", "```abc\nT:no X line\n"),
    ],
)
def test_broken_abc_is_refused(grammar, bad, why):
    assert bad in GOOD
    assert not grammar.accepts(GOOD.replace(bad, why, 1))


def test_no_tune_no_reply(grammar):
    assert not grammar.accepts("I cannot write music, but here is my motivation.")


def test_the_version_is_stated_in_the_grammar_file():
    assert grammar_version() == grammar_version(reply_grammar())
    assert grammar_version().isdigit()
    with pytest.raises(ValueError, match="version"):
        grammar_version("root ::= x")


def test_each_line_is_a_lexeme_and_the_tune_a_parser_rule():
    """The whole tune as one lexeme is too large for llguidance's lexer; a lexeme per note
    (or per bar: grammar version 3) makes every mask walk the parser. One lexeme per line is
    fast and small."""
    lark = lark_grammar(reply_grammar())
    assert "\ntune:" in lark and "\nTUNE:" not in lark
    assert "\nMUSIC_LINE:" in lark and "\nK_LINE:" in lark


def test_three_backticks_always_close_the_tune(grammar):
    assert grammar.accepts("```abc\nX:1\nK:C\nC`D`E|\n```\nThe end.")


CUT = "Sure.\n```abc\nX:1\nM:4/4\nL:1/8\nK:G\nGABc d2B2|c2A2 B2G2|\nA2F2 G"


def test_a_reply_cut_inside_a_bar_keeps_the_complete_bars(grammar):
    salvaged = complete_bars(CUT)
    assert salvaged.endswith("K:G\nGABc d2B2|c2A2 B2G2|\n```\n")
    assert salvaged.startswith("Sure.\n```abc\n")
    assert grammar.accepts(salvaged)


def test_a_cut_after_a_bar_line_keeps_that_bar():
    salvaged = complete_bars(CUT + "2 A2:|\nB")
    assert salvaged.endswith("A2F2 G2 A2:|\n```\n")


def test_a_cut_in_the_header_is_left_alone():
    cut = "```abc\nX:1\nM:4/4\nL:1/"
    assert complete_bars(cut) == cut


def test_a_closed_tune_is_left_alone():
    assert complete_bars(GOOD) == GOOD
    assert complete_bars("no tune at all") == "no tune at all"


def test_without_bar_lines_the_finished_lines_are_kept(grammar):
    salvaged = complete_bars("```abc\nX:1\nK:C\nCDEF GABc\ncd")
    assert salvaged == "```abc\nX:1\nK:C\nCDEF GABc\n```\n"
    assert grammar.accepts(salvaged)


def test_a_tempo_with_beats_run_together_is_read_not_raised():
    """Found by the grammar benchmark: a model wrote Q:10/120/1077/2 and precheck raised."""
    from pictune.abc.headers import tempo_qpm

    assert tempo_qpm("1/4 1/4=60") == 120.0
    assert isinstance(tempo_qpm("10/120/1077/2=90"), float)  # raised ValueError before


def test_the_logits_processor_leaves_only_what_the_grammar_allows(grammar):
    import torch

    from pictune.models.vlm.constrained import GrammarLogitsProcessor

    processor = GrammarLogitsProcessor(grammar)
    fence = grammar.tokenizer.tokenize_bytes(b"```abc\n")
    ids = [0]  # the prompt
    processor(torch.tensor([ids]), torch.zeros(1, 300))
    for token in fence:
        ids.append(token)
        scores = processor(torch.tensor([ids]), torch.zeros(1, 300))
    allowed = torch.isfinite(scores[0]).nonzero().flatten().tolist()
    assert allowed == grammar.tokenizer.tokenize_bytes(b"X")  # a tune starts with X:
    assert processor.report()["masked_tokens"] == len(fence) + 1
    assert not processor.failed and not processor.accepting


def test_the_prompt_shows_examples_within_the_grammar_s_bounds(grammar):
    tune = (
        "X:3\nT:"
        + "A very long title " * 5
        + "\nP:ABA % parts\nI:linebreak $\n"
        + "".join(f"N:note {i}\n" for i in range(10))
        + "M:  6/8\nL:1/8\nK:D\n"
        + "[P:A]\\\n"
        + '"D MINOR"A2 B c2- |\nc d e "Am"f>\ng a b|\n'
    )
    fitted = fit_to_grammar(tune)
    lines = fitted.split("\n")
    assert lines[1] == "T:" + ("A very long title " * 3)[:40].rstrip()
    assert "P:" not in fitted and "I:" not in fitted and "MINOR" not in fitted
    assert lines.index("K:D") <= 9 and "M:6/8" in lines
    assert 'A2 B c2- | c d e "Am"f> g a b|' in lines
    assert not grammar.accepts(reply(tune)) and grammar.accepts(reply(fitted))


@pytest.mark.parametrize(
    "written",
    [
        "C-D|",
        "C'|",
        "c,|",
        "C/3|",
        "C3/2>D|",
        "C>D>E|",
        "~|",
        '"Xyz"C|',
        "(3 C|",
        "[C-E]|",
        "|-C|",
        "[P:A]C|",
    ],
)
def test_notes_abc2midi_refuses_are_refused(grammar, written):
    """Each was an abc2midi error when the grammar allowed it (grammar version 1)."""
    assert grammar.accepts(reply("X:1\nK:C\nC2|"))
    assert not grammar.accepts(reply("X:1\nK:C\n" + written))


def test_a_cut_inside_a_repeat_closes_it_at_its_last_bar(grammar):
    salvaged = complete_bars("```abc\nX:1\nK:C\n|:CDEF|GABc|\ncdef|ga")
    assert salvaged.endswith("|:CDEF|GABc|\ncdef:|\n```\n")
    assert grammar.accepts(salvaged)


@pytest.mark.parametrize(
    "header",
    [
        "P:A B",
        "I:|(104",
        "Q:1/4 3/8=120",
        "%%MIDI channel 99",
        "%%MIDI drone 9",
        "V:a_b",
        'Q:"a%b" 1/4=80',
        'Q:"a=b"',
        'T:x\nQ:"x"%y',
    ],  # each an abc2midi error under grammar version 1 (%%MIDI droneon crashed it)
)
def test_header_lines_abc2midi_refuses_are_refused(grammar, header):
    assert not grammar.accepts(reply(f"X:1\n{header}\nK:C\nC2|"))
