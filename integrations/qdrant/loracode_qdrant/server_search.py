"""``loracode search`` answered by a running ``loracode serve`` in one request, before any parser is built.

The ``loracode`` console script (:mod:`loracode_embed.console`) hands a ``search`` command line to
:func:`fast_search` first. It reads the common forms of the command (a query; ``-k/--top``,
``-l/--language``, ``--path``, ``--task``, ``--mode``, ``--root``, ``--index-dir``, ``--lines``,
``--json``), finds the index as the full command does and its server as :mod:`.server_link` does
(``server.json`` in the index folder, a live pid), and sends one ``POST /v1/search`` that carries the
index folder: the server answers 409 if it holds another index, which replaces the separate
``GET /v1/health`` check. It imports only ``os``, ``sys``, ``json`` and ``socket`` (and this package's
import-free modules), so a warm search costs little more than the interpreter's start.

Whenever anything is unusual (an option or form it does not read, a value the full parser would refuse,
no index, no record, a dead pid, a non-loopback address, a refused connection, any answer but a complete
200 with the expected hits) it prints nothing and returns ``None``, and the full command runs: argparse,
the ``/v1/health`` check, the in-process search. So every error message and every fallback has one
home, the full command.

The HTTP request is written by hand on a socket (``Connection: close``, to a loopback address, answer
accepted only with a ``Content-Length`` that matches): ``http.client`` imports the ``email`` package,
which alone takes about as long to import as everything else on this path.

Example:
    >>> import tempfile
    >>> fast_search(["--index-dir", tempfile.mkdtemp(), "parse json"]) is None   # no server there
    True
    >>> fast_search(["--model", "bundle/", "parse json"]) is None   # an option read only by the full command
    True
"""

from __future__ import annotations

import json
import os
import socket
import sys

from loracode_qdrant.defaults import DEFAULT_INDEX_DIRNAME, SEARCH_MODES, SEARCH_TASKS, nearest_indexed_folder
from loracode_qdrant.hit_text import HIT_FIELDS, format_hits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: File name of the discovery record inside the index folder.
SERVER_FILE = "server.json"
#: Environment variable holding the bearer token of a server started with ``--token``.
TOKEN_ENV = "LORACODE_SERVE_TOKEN"
#: Seconds to connect (a live server accepts at once) and to wait for the answer (as the full command).
CONNECT_TIMEOUT = 1.0
ANSWER_TIMEOUT = 300.0

#: Options that take a value -> the request field they fill.
_VALUE_OPTIONS = {"-k": "k", "--top": "k", "-l": "language", "--language": "language", "--path": "path_glob",
                  "--task": "task", "--mode": "mode", "--root": "root", "--index-dir": "index_dir",
                  "--lines": "lines"}  # fmt: skip


def connect_host(host: str) -> str:
    """The address to reach a server bound to ``host`` from this machine (a wildcard bind: loopback)."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (``kill(pid, 0)``; another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OverflowError:
        return False
    return True


def fast_search(argv: Sequence[str]) -> int | None:
    """Run ``loracode search ARGV`` through the index's server: 0 once the hits are printed, ``None``
    (nothing printed) when the full command must run instead."""
    request = _read_args(list(argv))
    if request is None:
        return None
    hits = _post_search(request.pop("index_dir"), request)
    if hits is None:
        return None
    if request["json"]:
        text = json.dumps([{name: hit[name] for name in HIT_FIELDS} for hit in hits], indent=2)
    else:
        from types import SimpleNamespace

        hit_objects = [SimpleNamespace(**hit) for hit in hits]
        text = format_hits(hit_objects, request["lines"], color=sys.stdout.isatty())
    try:
        print(text)
    except BrokenPipeError:  # `loracode search ... | head`: the reader left; not an error
        pass
    except UnicodeEncodeError:  # stdout cannot take the text (nothing was written): the full command says so
        return None
    return 0


def _read_args(argv: list[str]) -> dict[str, Any] | None:
    """The request for ``argv`` (``index_dir``, the search fields, ``json``, ``lines``), or ``None``."""
    if os.environ.get("QDRANT_URL"):  # the full command's --qdrant-url default: no embedded index
        return None
    given: dict[str, Any] = {"path_glob": []}
    query = None
    as_json = False
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--json":
            as_json = True
            continue
        if not token.startswith("-"):
            if query is not None:  # a second query: the parser's error
                return None
            query = token
            continue
        name, eq, value = token.partition("=")
        field = _VALUE_OPTIONS.get(name)
        if field is None or (eq and not name.startswith("--")):
            return None
        if not eq:
            if i == len(argv):
                return None
            value = argv[i]
            i += 1
        if not value or value.startswith("-"):
            return None
        if field == "path_glob":
            given["path_glob"].append(value)
        else:
            given[field] = value
    k = _int(given.get("k", "10"))
    lines = _int(given.get("lines", "4"))
    task = given.get("task", "auto")
    mode = given.get("mode", "auto")
    if query is None or not query.strip() or k is None or k < 1 or lines is None or lines < 0:
        return None
    if task not in SEARCH_TASKS or mode not in SEARCH_MODES:
        return None
    index_dir = _index_dir(given.get("root"), given.get("index_dir"))
    if index_dir is None:
        return None
    # The fields the full command sends; the language is canonicalised by the server (an unknown one is
    # refused there, and then by the full command's parser).
    return {"index_dir": index_dir, "query": query, "k": k, "language": given.get("language"),
            "path_glob": given["path_glob"] or None, "task": task, "mode": mode, "json": as_json,
            "lines": lines}  # fmt: skip


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _index_dir(root: str | None, index_dir: str | None) -> str | None:
    """The index folder the full command would search (``--index-dir``, ``--root``, or found upward)."""
    if index_dir is not None:
        return os.path.expanduser(index_dir)
    if root is not None:
        root = os.path.expanduser(root)
        return os.path.join(root, DEFAULT_INDEX_DIRNAME) if os.path.isdir(root) else None
    found = nearest_indexed_folder(os.getcwd())
    return None if found is None else os.path.join(found, DEFAULT_INDEX_DIRNAME)


def _post_search(index_dir: str, request: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The hits of ``POST /v1/search`` from the live loopback server of ``index_dir``, or ``None``."""
    try:
        with open(os.path.join(index_dir, SERVER_FILE), encoding="utf-8") as f:
            record = json.load(f)
        pid, port, host = record["pid"], record["port"], connect_host(record["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(pid, int) or not isinstance(port, int) or not pid_alive(pid):
        return None
    if host not in ("127.0.0.1", "localhost", "::1"):  # the full command reaches other hosts
        return None
    token = os.environ.get(TOKEN_ENV)
    if token and ("\r" in token or "\n" in token or not token.isascii()):
        return None  # not a valid header value: the full command says so
    body = {key: request[key] for key in ("query", "k", "language", "path_glob", "task", "mode")}
    body["index_dir"] = os.path.realpath(index_dir)  # the server refuses it unless it is its own
    payload = json.dumps(body).encode("utf-8")
    headers = [
        "POST /v1/search HTTP/1.1",
        f"Host: {f'[{host}]' if ':' in host else host}:{port}",
        "Accept: application/json",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *([f"Authorization: Bearer {token}"] if token else []),
    ]
    try:
        # the host as bytes: a str one would import the idna codec (and unicodedata) to encode it
        with socket.create_connection((host.encode("ascii"), port), timeout=CONNECT_TIMEOUT) as sock:
            sock.settimeout(ANSWER_TIMEOUT)
            sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + payload)
            parts = []
            while part := sock.recv(65536):
                parts.append(part)
        return _hits(b"".join(parts))
    except (OSError, ValueError):
        return None


def _hits(raw: bytes) -> list[dict[str, Any]] | None:
    """The hits in a complete ``200`` answer (a ``Content-Length`` body of the server's JSON), or ``None``."""
    head, sep, content = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if not sep or len(status) < 2 or not status[0].startswith(b"HTTP/1.") or status[1] != b"200":
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"transfer-encoding" in headers or headers.get(b"content-length") != str(len(content)).encode():
        return None
    answer = json.loads(content)
    hits = answer.get("data") if isinstance(answer, dict) else None
    fields = set(HIT_FIELDS)
    if not isinstance(hits, list) or not all(isinstance(h, dict) and h.keys() >= fields for h in hits):
        return None
    return hits
