"""The live index: watch the tree with ``watchfiles`` and re-index after each quiet spell.

One background thread. File events are grouped until none has come for ``quiet_ms`` (at most
``max_group_ms`` after the first), then :meth:`WarmIndex.refresh` runs: an incremental index of the tree,
which re-embeds only files whose content changed and removes deleted, renamed and newly ignored files.
Events during a refresh are kept by the watcher and start the next one. The index folder itself, and the
folders ``watchfiles`` ignores by default (``.git``, ``node_modules``, caches...), raise no events.

The first refresh (bringing the index up to date with the tree at start) runs on the same thread, after
the watch is in place, so no edit made meanwhile is lost.

Example:
    >>> import tempfile, pathlib, time
    >>> from loracode_qdrant.testing import FakeModel
    >>> from loracode_serve.warm import WarmIndex
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> warm = WarmIndex(root, model=FakeModel())
    >>> watcher = Watcher(warm).start()
    >>> _ = (root / "net.py").write_text("def fetch_with_retry(url):\\n    return retry(http_get, url)\\n")
    >>> watcher.wait_for(lambda: warm.search("retry http get", k=1), timeout=30)
    True
    >>> watcher.stop(); warm.close()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchfiles import DefaultFilter, watch

from loracode_serve.warm import WarmIndex

logger = logging.getLogger(__name__)


class _TreeFilter(DefaultFilter):
    """``watchfiles``' default filter, plus the index folder (the server's own writes are no edits)."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__(
            ignore_dirs=(*DefaultFilter.ignore_dirs, ".loracode"), ignore_paths=(str(index_dir),)
        )


class Watcher:
    """Keeps a :class:`WarmIndex` current with its tree.

    Args:
        warm: The index to refresh.
        quiet_ms: Re-index once no event has come for this long (the debounce).
        max_group_ms: Re-index at the latest this long after the first event of a group, even while
            events keep coming.
        poll: Poll the file system instead of using OS notifications (network file systems, containers).
    """

    def __init__(self, warm: WarmIndex, *, quiet_ms: int = 150, max_group_ms: int = 1000, poll: bool = False):
        if quiet_ms < 1 or max_group_ms < quiet_ms:
            raise ValueError(
                f"need 1 <= quiet_ms <= max_group_ms, got quiet_ms={quiet_ms}, max_group_ms={max_group_ms}"
            )
        self.warm = warm
        self.quiet_ms = quiet_ms
        self.max_group_ms = max_group_ms
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> Watcher:
        """Start the thread (it runs the first refresh, then watches); returns ``self``."""
        self.warm.watching = True
        self._thread = threading.Thread(target=self._run, name="loracode-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        first = True
        try:
            for changes in watch(
                self.warm.root,
                watch_filter=_TreeFilter(self.warm.index_dir),
                debounce=self.max_group_ms,
                step=self.quiet_ms,
                stop_event=self._stop,
                rust_timeout=200,
                yield_on_timeout=True,
                raise_interrupt=False,
                force_polling=self.poll or None,
            ):
                if self._stop.is_set():
                    break
                if not (first or changes):
                    continue
                first = False
                if changes:
                    logger.info("%d change(s) under %s: re-indexing", len(changes), self.warm.root)
                try:
                    self.warm.refresh()
                except Exception:  # logged by refresh; keep watching, the next edit retries
                    pass
        except BaseException as exc:  # the watch itself failed (e.g. too many inotify watches)
            self.error = exc
            self.warm.last_error = f"watcher stopped: {type(exc).__name__}: {exc}"
            logger.exception("Watching %s stopped", self.warm.root)
        finally:
            self.warm.watching = False

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> bool:
        """Poll ``condition`` until it is truthy (``True``) or ``timeout`` seconds pass (``False``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(interval)
        return bool(condition())

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching (a refresh in progress completes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
