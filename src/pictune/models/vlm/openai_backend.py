"""Any OpenAI-compatible chat-completions server: vLLM, Ollama, LM Studio, llama.cpp, hosted.

Images go as PNG data URLs. Timeouts on every request; 429 and 5xx are retried with
exponential back-off a bounded number of times; refused connections, 401, 404 and unknown
models get one-line errors. The API key never appears in logs, reports or errors.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from pictune.abc.grammar import complete_bars, grammar_version, reply_grammar
from pictune.models.errors import BackendError
from pictune.models.vlm.base import GenerationOptions, Message, Reply

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}
GRAMMAR_FIELDS = ("grammar", "guided_grammar", "structured_outputs")
STRUCTURED_OUTPUTS_SINCE = (0, 10, 2)  # vLLM: guided_grammar before, removed in 0.12


class GrammarRejectedError(BackendError):
    """The server refused a request because of its grammar field."""


def _version_tuple(text: str) -> tuple[int, ...] | None:
    parts = []
    for piece in text.split("+")[0].split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


@dataclass
class OpenAIBackend:
    model: str
    base_url: str = "http://localhost:8000/v1"
    api_key: str | None = None
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0
    image_side: int = 420
    constrained: str = "auto"  # send the ABC reply grammar where the server takes one: auto|on|off
    server: str = "auto"  # vllm, llamacpp, ollama, openai (hosted) or auto (asked once)
    _resolved: tuple[str, tuple[int, ...] | None] | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, model: str, base_url: str | None = None, **options: Any) -> OpenAIBackend:
        return cls(
            model=model,
            base_url=base_url
            or os.environ.get("PICTUNE_OPENAI_BASE_URL", "http://localhost:8000/v1"),
            api_key=os.environ.get("PICTUNE_OPENAI_API_KEY"),
            **options,
        )

    @property
    def id(self) -> str:
        return f"openai:{self.model}"

    def __repr__(self) -> str:  # the key must never be printed
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    def _image_url(self, image: Any) -> str:
        picture = image.copy()
        picture.thumbnail((self.image_side, self.image_side))
        buffer = io.BytesIO()
        picture.convert("RGB").save(buffer, "PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

    def _payload(self, messages: list[Message], options: GenerationOptions) -> dict[str, Any]:
        wire = []
        for message in messages:
            if message.images:
                content: Any = [
                    {"type": "image_url", "image_url": {"url": self._image_url(i)}}
                    for i in message.images
                ]
                content.append({"type": "text", "text": message.text})
            else:
                content = message.text
            wire.append({"role": message.role, "content": content})
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": wire,
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
        }
        if options.seed is not None:
            payload["seed"] = options.seed
        return payload

    def generate(self, messages: list[Message], options: GenerationOptions) -> Reply:
        payload = self._payload(messages, options)
        started = time.perf_counter()
        constraint: dict[str, Any] = {}
        grammar_field = self._grammar_field(options, constraint)
        if grammar_field is not None:
            payload.update(grammar_field)
        try:
            data = self._post(payload)
        except GrammarRejectedError as exc:
            for name in grammar_field or {}:
                payload.pop(name)
            constraint.update(
                constrained=False,
                note=f"the server rejected the grammar field ({exc}); sent again unconstrained",
            )
            log.info("%s", constraint["note"])
            data = self._post(payload)
        text, reply = self._reply(data, time.perf_counter() - started)
        if constraint:
            finished = (data.get("choices") or [{}])[0].get("finish_reason")
            if constraint.get("constrained") and finished == "length":
                text = complete_bars(text)  # the budget ran out inside the tune
            reply.extra["constraint"] = constraint
        return Reply(
            text=text,
            model=reply.model,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            seconds=reply.seconds,
            extra=reply.extra,
        )

    def _grammar_field(
        self, options: GenerationOptions, constraint: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The request field that carries the ABC grammar for this server, if it takes one;
        fills `constraint` with what a round records."""
        if not options.constrain:
            return None
        if self.constrained == "off":
            constraint.update(constrained=False, note="constrained = off")
            return None
        kind, version = self._server()
        gbnf = reply_grammar()
        constraint.update(
            constrained=True, grammar_version=grammar_version(gbnf), server=kind,
            mask_us_per_token=None,
        )  # fmt: skip
        if kind == "llamacpp":
            constraint["field"] = "grammar"
            return {"grammar": gbnf}
        if kind == "vllm":
            if version is not None and version < STRUCTURED_OUTPUTS_SINCE:
                constraint["field"] = "guided_grammar"
                return {"guided_grammar": gbnf}
            constraint["field"] = "structured_outputs.grammar"
            return {"structured_outputs": {"grammar": gbnf}}
        constraint.update(
            constrained=False,
            note=f"{kind} servers take no grammar; this call was not constrained",
        )
        return None

    def _server(self) -> tuple[str, tuple[int, ...] | None]:
        """(kind, vLLM version): the `server` setting, or asked of the server once (auto)."""
        if self._resolved is None:
            kind = self.server
            root = self.base_url.rstrip("/").removesuffix("/v1")
            version = None
            if kind in ("auto", "vllm"):
                answer = self._probe(root + "/version")
                if answer and isinstance(answer.get("version"), str):
                    kind, version = "vllm", _version_tuple(answer["version"])
            if kind == "auto":
                answer = self._probe(root + "/props")
                kind = "llamacpp" if answer and "default_generation_settings" in answer else kind
            if kind == "auto":
                kind = "ollama" if self._probe(root + "/api/version") else "openai"
            self._resolved = (kind, version)
        return self._resolved

    def _probe(self, url: str) -> dict[str, Any] | None:
        """GET a small JSON document; None on any failure (servers differ in what they have)."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            request = urllib.request.Request(url, headers=headers, method="GET")
            with urllib.request.urlopen(request, timeout=min(self.timeout, 5.0)) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError):
            return None
        return answer if isinstance(answer, dict) else None

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        url = self.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        constrained = any(name in payload for name in GRAMMAR_FIELDS)
        data: dict[str, Any] = {}
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = json.loads(response.read())
                break
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
                if constrained and exc.code in (400, 422):
                    raise GrammarRejectedError(f"{exc.code}: {detail}") from None
                if exc.code in RETRY_STATUS and attempt < self.retries:
                    wait = self.backoff * 2**attempt
                    log.info("server answered %d; retrying in %.1f s", exc.code, wait)
                    time.sleep(wait)
                    continue
                raise BackendError(self._status_message(exc.code, detail)) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
                    raise BackendError(
                        f"{self.base_url} did not answer within {self.timeout:g} s"
                    ) from None
                raise BackendError(f"cannot reach {self.base_url}: {_plain(reason)}") from None
            except json.JSONDecodeError:
                raise BackendError(
                    f"{self.base_url} answered with something that is not JSON"
                ) from None
        return data

    def _reply(self, data: dict[str, Any], seconds: float) -> tuple[str, Reply]:
        try:
            choice = data["choices"][0]["message"]
            text = choice.get("content") or ""
            if isinstance(text, list):
                text = "".join(part.get("text", "") for part in text if isinstance(part, dict))
            reasoning = choice.get("reasoning_content") or choice.get("reasoning")
            if reasoning:
                text = f"<think>{reasoning}</think>\n{text}"
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(f"{self.base_url} answered without a chat completion") from None
        usage = data.get("usage") or {}
        return str(text), Reply(
            text=str(text),
            model=str(data.get("model") or self.model),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            seconds=seconds,
        )

    def _status_message(self, code: int, detail: str) -> str:
        if code == 401:
            return f"{self.base_url} refused the API key (401); set PICTUNE_OPENAI_API_KEY"
        if code == 404:
            if "model" in detail.lower():
                return f"the server does not serve model {self.model!r} (404): {detail}"
            return f"{self.base_url} has no chat-completions endpoint (404); check the base URL"
        if code in RETRY_STATUS:
            return f"{self.base_url} kept failing ({code}) after {self.retries + 1} tries: {detail}"
        return f"{self.base_url} answered {code}: {detail}"


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read() or b"{}")
        error = data.get("error", data)
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or exc.reason)[:200]
    except (json.JSONDecodeError, AttributeError, ValueError):
        return str(exc.reason)[:200]


def _plain(reason: object) -> str:
    text = str(reason)
    if "Connection refused" in text or isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    return text.strip("<>")
