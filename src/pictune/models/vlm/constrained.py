"""Grammar-constrained decoding for local models, on llguidance.

At each decoding step the tokens that would take the reply out of the ABC reply grammar
(`pictune.abc.grammar`) get a logit of -inf, so the tune always tokenises. The grammar is
compiled once per tokenizer and kept by a `GrammarCompiler` object (keyed by checksums of
the tokenizer and the grammar); each generation gets a fresh matcher from it.

llguidance reads GBNF by turning every rule made only of characters into one lexeme. For
this grammar that makes the whole tune one regular expression, too large for its lexer
(and a lexeme per note makes every mask walk the parser, ~1 ms a token). The grammar file
names the rules that must stay parser rules (`# parser rules: tune`); `lark_grammar`
lowers those, so each line of the tune is one lexeme: tens of µs a token.
"""

from __future__ import annotations

import hashlib
import logging
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from pictune.abc.grammar import grammar_version, reply_grammar
from pictune.models.errors import BackendError, require

log = logging.getLogger(__name__)
EXTRA = "grammar"
MODES = ("auto", "on", "off")
_PIECE = re.compile(r'"(?:[^"\\]|\\.)*"|/(?:[^/\\\n]|\\.)+/|\b[A-Z][A-Z0-9_]*\b|//[^\n]*|.', re.S)
_PARSER_RULES = re.compile(r"(?m)^# parser rules: (.*)$")


def library_available() -> bool:
    """Whether llguidance (the `pictune[grammar]` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("llguidance") is not None


def wants_constraint(mode: str) -> bool:
    """Resolve `constrained = auto|on|off`: auto means on when the library is installed."""
    if mode not in MODES:
        raise BackendError(f"constrained must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "off":
        return False
    if mode == "on" and not library_available():
        raise BackendError(
            "constrained = on needs llguidance: install `pictune[grammar]` "
            "(or set constrained = auto or off)"
        )
    return library_available()


def lark_grammar(gbnf: str) -> str:
    """The GBNF grammar in llguidance's Lark dialect, with structure kept as parser rules."""
    from llguidance.gbnf_to_lark import gbnf_to_lark

    lark = gbnf_to_lark(gbnf)
    declared = _PARSER_RULES.search(gbnf)
    names = declared.group(1).split() if declared else []
    rules = {name.replace("-", "_").upper() for name in names}
    return "".join(p.lower() if p in rules else p for p in _PIECE.findall(lark))


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CompiledGrammar:
    """The reply grammar made ready for one tokenizer."""

    tokenizer: Any  # llguidance.LLTokenizer
    grammar: str  # llguidance's serialised grammar
    version: str
    compile_seconds: float
    template: Any  # a matcher in its start state; each generation gets a copy

    def matcher(self) -> Any:
        """A fresh matcher at the start of a reply (a copy: the grammar is parsed once)."""
        return self.template.deep_copy()

    def accepts(self, text: str) -> bool:
        """Whether `text` is a whole reply the grammar allows (for tests and checks)."""
        matcher = self.matcher()
        tokens = self.tokenizer.tokenize_bytes(text.encode("utf-8"))
        return bool(matcher.consume_tokens(tokens)) and bool(matcher.is_accepting())


@dataclass
class GrammarCompiler:
    """Compiles the reply grammar once per tokenizer and keeps the results (owned by a
    backend; keyed by checksums of the tokenizer's JSON and of the grammar text)."""

    gbnf: str = field(default_factory=reply_grammar)
    _compiled: dict[tuple[str, str, int], CompiledGrammar] = field(default_factory=dict)

    def for_hf_tokenizer(self, tokenizer: Any, vocab_size: int, eos: list[int]) -> CompiledGrammar:
        """The grammar for a transformers fast tokenizer whose model scores `vocab_size`
        tokens and stops on any of `eos`."""
        llguidance = require("llguidance", EXTRA)
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise BackendError("grammar-constrained decoding needs a fast (Rust) tokenizer")
        key = (_checksum(backend.to_str()), _checksum(self.gbnf), vocab_size)
        if key not in self._compiled:
            started = time.perf_counter()
            from llguidance.hf import from_tokenizer

            ll_tokenizer = from_tokenizer(tokenizer, n_vocab=vocab_size, eos_token=eos)
            self._compiled[key] = self._compile(ll_tokenizer, llguidance, started)
        return self._compiled[key]

    def for_tokenizer_json(self, tokenizer_json: str, eos: int) -> CompiledGrammar:
        """The grammar for a `tokenizers` tokenizer given as JSON (benchmarks and tests)."""
        llguidance = require("llguidance", EXTRA)
        key = (_checksum(tokenizer_json), _checksum(self.gbnf), -1)
        if key not in self._compiled:
            started = time.perf_counter()
            ll_tokenizer = llguidance.LLTokenizer(tokenizer_json, eos_token=eos)
            self._compiled[key] = self._compile(ll_tokenizer, llguidance, started)
        return self._compiled[key]

    def _compile(self, ll_tokenizer: Any, llguidance: Any, started: float) -> CompiledGrammar:
        grammar = llguidance.LLMatcher.grammar_from_lark(lark_grammar(self.gbnf))
        failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(
            grammar, ll_tokenizer
        )
        if failed:
            raise BackendError(f"the ABC grammar did not compile: {messages[0]}")
        template = llguidance.LLMatcher(ll_tokenizer, grammar, log_level=0)
        if template.is_error():
            raise BackendError(f"the ABC grammar did not compile: {template.get_error()}")
        compiled = CompiledGrammar(
            ll_tokenizer,
            grammar,
            grammar_version(self.gbnf),
            time.perf_counter() - started,
            template,
        )
        log.info("ABC grammar compiled in %.3f s", compiled.compile_seconds)
        return compiled


class GrammarLogitsProcessor:
    """A transformers logits processor that keeps one generation (batch of one) inside the
    grammar. Records the time spent computing and applying each token's mask."""

    def __init__(self, compiled: CompiledGrammar) -> None:
        import numpy as np
        import torch

        self._np, self._torch = np, torch
        self.compiled = compiled
        self.matcher = compiled.matcher()
        self._bitmask = np.zeros((compiled.tokenizer.vocab_size + 31) // 32, dtype=np.int32)
        self._blocked: Any = None  # bool per scored token, reused every step
        self._prompt: int | None = None
        self.mask_seconds: list[float] = []
        self.failed = ""

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        started = time.perf_counter()
        np = self._np
        if input_ids.shape[0] != 1:
            raise BackendError("grammar-constrained decoding runs one reply at a time")
        if self._prompt is None:
            self._prompt = int(input_ids.shape[1])
        elif not self.failed and not self.matcher.consume_token(int(input_ids[0, -1])):
            self.failed = self.matcher.get_error() or "a token left the grammar"
            log.warning("constrained decoding stopped: %s", self.failed)
        vocab = int(scores.shape[-1])
        if self._blocked is None:
            self._blocked = np.ones(vocab, dtype=bool)
        blocked = self._blocked
        if self.failed:  # only the end of the reply is left
            blocked[:] = True
            blocked[[e for e in self.compiled.tokenizer.eos_tokens if e < vocab]] = False
        else:
            self.matcher.unsafe_compute_mask_ptr(self._bitmask.ctypes.data, self._bitmask.nbytes)
            bits = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")
            known = min(vocab, bits.size)
            np.equal(bits[:known], 0, out=blocked[:known])
            blocked[known:] = True
        scores.masked_fill_(self._torch.from_numpy(blocked).to(scores.device), float("-inf"))
        self.mask_seconds.append(time.perf_counter() - started)
        return scores

    @property
    def accepting(self) -> bool:
        return bool(self.matcher.is_accepting())

    def report(self) -> dict[str, Any]:
        """What a round records: constrained, the grammar's version, mask time per token."""
        times = self.mask_seconds
        return {
            "constrained": True,
            "grammar_version": self.compiled.version,
            "mask_us_per_token": round(statistics.median(times) * 1e6, 1) if times else None,
            "mask_us_p95": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1e6, 1)
            if times
            else None,
            "masked_tokens": len(times),
        }
