"""Run the HTTP server (uvicorn) in the foreground or on a thread, and announce it in the index folder.

Once the server listens, :class:`HttpServer` writes ``server.json`` into the index folder (host, port,
pid; see ``loracode_qdrant.server_link``) so that ``loracode search`` and ``loracode index`` on the same
tree use it; the file goes when the server stops (a file left by a killed server is recognised as stale).

Example:
    >>> check_bind("127.0.0.1", None)      # loopback: no token needed
    >>> check_bind("0.0.0.0", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --host '0.0.0.0' exposes the server beyond this machine: set a token with --token or the ...
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import uvicorn
from loracode_qdrant.server_link import TOKEN_ENV, ServerInfo, remove_server_file, write_server_file

from loracode_serve.warm import WarmIndex

logger = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback ``host`` without a token.

    Raises:
        ValueError: ``host`` is not loopback and ``token`` is empty.
    """
    if host not in LOOPBACK and not token:
        raise ValueError(
            f"--host {host!r} exposes the server beyond this machine: set a token with --token or the "
            f"{TOKEN_ENV} environment variable"
        )


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, owner: HttpServer) -> None:
        super().__init__(config)
        self.owner = owner

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.owner._listening(self.servers[0].sockets[0].getsockname()[1])

    async def shutdown(self, sockets: Any = None) -> None:
        self.owner._closing()
        await super().shutdown(sockets=sockets)


class HttpServer:
    """uvicorn serving ``app`` for ``warm``; announces itself in ``warm.index_dir`` while it listens.

    Args:
        app: The ASGI application (:func:`loracode_serve.http.create_app`).
        warm: The index served (for the announcement).
        host: Address to bind (checked by :func:`check_bind` by the caller).
        port: TCP port; 0 picks a free one (see :attr:`port` once started).
        announce: Write ``server.json`` (off for a server that is not the index's holder, e.g. in tests).
    """

    def __init__(
        self, app: Any, warm: WarmIndex, host: str = "127.0.0.1", port: int = 8765, announce: bool = True
    ) -> None:
        self.warm = warm
        self.host = host
        self.port = port
        self.announce = announce
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self._server = _Uvicorn(config, self)
        self._started = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _listening(self, port: int) -> None:
        self.port = port
        if self.announce:
            info = ServerInfo(
                pid=_pid(),
                host=self.host,
                port=port,
                root=str(self.warm.root),
                index_dir=str(self.warm.index_dir),
                watch=self.warm.watching,
            )
            write_server_file(self.warm.index_dir, info)
        logger.warning("loracode serve: %s on %s", self.warm.root, self.url)
        self._started.set()

    def _closing(self) -> None:
        if self.announce:
            remove_server_file(self.warm.index_dir)

    def run(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C, SIGTERM)."""
        self._server.run()

    def start(self, timeout: float = 30.0) -> HttpServer:
        """Serve on a background thread; returns once listening (``port`` then holds the real port)."""
        self._thread = threading.Thread(target=self._server.run, name="loracode-http", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            self.stop()
            raise RuntimeError(
                f"The HTTP server did not start on {self.host}:{self.port} within {timeout:.0f}s"
            )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`start`."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)


def _pid() -> int:
    import os

    return os.getpid()
