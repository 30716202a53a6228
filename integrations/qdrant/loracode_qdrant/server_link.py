"""Find a running ``loracode serve`` for an index, and ask it to search or re-index (standard library only).

A server that holds an embedded index writes ``server.json`` into the index folder (``<tree>/.loracode``)
once it listens, and removes it when it stops. The embedded store admits one process at a time, so while
a server holds it, ``loracode search`` sends its query to the server and ``loracode index`` asks the server
to re-index instead of opening the store itself. A file left by a killed server is ignored: the server must
be alive (its pid exists) and answer ``GET /v1/health`` with the same pid and index folder.
(:mod:`.server_search` answers a plain ``loracode search`` before this module is imported, in one
request that the server checks against its index folder; this module is the full command's way.)

This module belongs to the indexer so that its CLI can find a server without importing ``loracode-serve``
(which imports the indexer, never the reverse). ``loracode-serve`` writes the file with
:func:`write_server_file`.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> find_server(folder) is None     # no server.json: no server
    True
    >>> info = ServerInfo(pid=2**22 + 1, host="127.0.0.1", port=9, root="/src", index_dir=folder)
    >>> _ = write_server_file(folder, info)
    >>> read_server_file(folder).url
    'http://127.0.0.1:9'
    >>> find_server(folder) is None     # that pid is not running: the file is stale
    True
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loracode_qdrant.server_search import SERVER_FILE, TOKEN_ENV, connect_host, pid_alive


@dataclass(frozen=True)
class ServerInfo:
    """Where a running server listens, and what it serves.

    Attributes:
        pid: The server's process id.
        host: The host it is bound to (``127.0.0.1`` unless started with ``--host``).
        port: Its TCP port.
        root: The indexed tree (absolute).
        index_dir: The index folder (absolute).
        watch: Whether it re-indexes changes itself.
    """

    pid: int
    host: str
    port: int
    root: str
    index_dir: str
    watch: bool = False

    @property
    def url(self) -> str:
        """Base URL to reach it from this machine (a wildcard bind is reached on loopback)."""
        host = connect_host(self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


class ServerError(RuntimeError):
    """A server answered with an error (its JSON message is in the text), or could not be reached."""


def write_server_file(index_dir: str | os.PathLike[str], info: ServerInfo) -> Path:
    """Write ``server.json`` atomically (a reader never sees half a file); returns its path."""
    folder = Path(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SERVER_FILE
    tmp = folder / f".{SERVER_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def remove_server_file(index_dir: str | os.PathLike[str], pid: int | None = None) -> None:
    """Remove ``server.json`` if it is this process's (``pid``, default the current one)."""
    info = read_server_file(index_dir)
    if info is not None and info.pid == (os.getpid() if pid is None else pid):
        (Path(index_dir) / SERVER_FILE).unlink(missing_ok=True)


def read_server_file(index_dir: str | os.PathLike[str]) -> ServerInfo | None:
    """The record in ``server.json``, or ``None`` when there is none or it is unreadable."""
    try:
        data = json.loads((Path(index_dir) / SERVER_FILE).read_text(encoding="utf-8"))
        return ServerInfo(**{k: data[k] for k in ("pid", "host", "port", "root", "index_dir")},
                          watch=bool(data.get("watch", False)))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_server(index_dir: str | os.PathLike[str], timeout: float = 1.0) -> ServerInfo | None:
    """The live server holding ``index_dir``, or ``None`` (no record, dead pid, or no/other answer).

    Raises:
        ServerError: the server is alive but refuses us (401: set ``LORACODE_SERVE_TOKEN``).
    """
    info = read_server_file(index_dir)
    if info is None or not pid_alive(info.pid):
        return None
    try:
        health = request_json(info, "GET", "/v1/health", timeout=timeout)
    except ServerError as exc:
        if "401" in str(exc):
            raise
        return None
    same_dir = Path(str(health.get("index_dir", ""))).resolve() == Path(index_dir).resolve()
    return info if health.get("pid") == info.pid and same_dir else None


def request_json(info: ServerInfo, method: str, path: str, body: Any = None, timeout: float = 300.0) -> Any:
    """Send one JSON request to the server and return its decoded JSON answer.

    The bearer token, if the server needs one, comes from ``LORACODE_SERVE_TOKEN``.

    Raises:
        ServerError: an HTTP error (with the server's message) or a connection failure.
    """
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(info.url + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    token = os.environ.get(TOKEN_ENV)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http to a local server)
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8"))["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = exc.reason
        hint = f" (set {TOKEN_ENV} to the server's token)" if exc.code == 401 else ""
        raise ServerError(f"loracode server at {info.url} answered {exc.code}: {message}{hint}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ServerError(f"Cannot reach the loracode server at {info.url}: {exc}") from exc
