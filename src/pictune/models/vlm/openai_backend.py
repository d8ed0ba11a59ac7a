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
from dataclasses import dataclass
from typing import Any

from pictune.models.errors import BackendError
from pictune.models.vlm.base import GenerationOptions, Message, Reply

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass
class OpenAIBackend:
    model: str
    base_url: str = "http://localhost:8000/v1"
    api_key: str | None = None
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0
    image_side: int = 420

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
        body = json.dumps(self._payload(messages, options)).encode()
        url = self.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        started = time.perf_counter()
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = json.loads(response.read())
                break
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
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
        return Reply(
            text=str(text),
            model=str(data.get("model") or self.model),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            seconds=time.perf_counter() - started,
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
