"""`pictune serve`: the web page and HTTP API."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from pathlib import Path

import typer

from pictune.cli.output import err_console, fail


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MIN_TOKEN_CHARS = 32


def token_weakness(token: str) -> str | None:
    """Why `token` is too weak to guard a public address; None when it is strong enough."""
    if len(token) < MIN_TOKEN_CHARS:
        return f"has {len(token)} characters; use at least {MIN_TOKEN_CHARS}"
    if token != token.strip() or any(ch.isspace() for ch in token):
        return "contains spaces"
    if len(set(token)) < 8:
        return "repeats too few characters"
    return None


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, in one line; None when it can."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return f"cannot listen on {host}: no such address"
    family, kind, _, _, address = infos[0]
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use (another server?); choose one with --port"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    data_dir: Path = typer.Option(Path("pictune-data"), "--data-dir", help="Jobs and their files."),
    workers: int = typer.Option(2, "--workers", min=1, max=32, help="Compositions at once."),
) -> None:
    """Serve the page and the HTTP API (OpenAPI schema at /docs)."""
    token = os.environ.get("PICTUNE_API_TOKEN")
    if token is not None and not token.strip():
        token = None
    if not _loopback(host):
        if token is None:
            fail(
                f"binding to {host} exposes the server: set PICTUNE_API_TOKEN first, e.g. to "
                "the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        weak = token_weakness(token)
        if weak:
            fail(f"PICTUNE_API_TOKEN {weak}; a public address needs a strong token")
    try:
        import uvicorn

        from pictune.web.app import ServerSettings, create_app
        from pictune.web.server import server_config
    except ImportError:
        fail("the web server is not installed: pip install 'pictune[web]'")
    problem = port_problem(host, port)
    if problem:
        fail(problem)
    app = create_app(ServerSettings(data_dir=data_dir, workers=workers, token=token))
    err_console.print(f"pictune on http://{host}:{port}/ (data in {data_dir})")
    # Slow headers and bodies meet deadlines; connections beyond the cap get 503.
    uvicorn.Server(server_config(app, host, port)).run()
