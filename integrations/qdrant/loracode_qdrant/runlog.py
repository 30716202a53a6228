"""Whether the last ``index`` run finished: a small record written as the run goes.

An index run writes :class:`RunRecord` when it starts, after each batch of files it writes, and when it
ends (``complete``, or ``failed`` with the error). A run killed with ``kill -9`` leaves ``running``
behind with the files done so far and the time of its last write. Readers (``loracode search``,
``loracode status``) use it to say that an index is incomplete, or that a run is in progress.

Where it lives: for the embedded store, ``last_run.json`` beside the shard (written atomically, read
without taking the store's lock, so a search during a run can report its progress); for a server
store, the ``last_run`` field of the metadata record.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> run = RunRecord.start(files_total=3)
    >>> write_run_file(folder, run)
    >>> read_run_file(folder).state
    'running'
    >>> read_run_file(folder).in_progress()  # this process wrote it and is alive
    True
    >>> read_run_file(folder).interrupted(lock_free=True)  # nobody holds the store: it was killed
    True
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from loracode_qdrant.defaults import RUN_FILE


@dataclass
class RunRecord:
    """One index run, as far as it got.

    Attributes:
        state: ``running``, ``complete`` or ``failed``.
        started: Start time (seconds since the epoch).
        updated: Time of the last write (for a killed run: about when it stopped).
        finished: End time, or ``None`` while running (and after a kill).
        files_total: Files the walk chose for indexing.
        files_done: Files indexed so far (written, or unchanged since the previous run).
        chunks_total: Chunks of new and changed files, to embed or to reuse.
        chunks_done: Of those, chunks written so far.
        pid: The indexing process.
        host: Its host name (a pid means something only on its host).
        error: ``failed`` runs: the error message.
    """

    state: str
    started: float
    updated: float
    finished: float | None = None
    files_total: int = 0
    files_done: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    pid: int = 0
    host: str = ""
    error: str | None = None

    @classmethod
    def start(cls, files_total: int) -> RunRecord:
        """A record for a run starting now in this process."""
        now = time.time()
        return cls("running", now, now, files_total=files_total, pid=os.getpid(), host=socket.gethostname())

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord | None:
        """The record in ``data``, or ``None`` if it is not one (a missing or foreign file)."""
        if not isinstance(data, dict) or "state" not in data or "started" not in data:
            return None
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @property
    def duration(self) -> float:
        """Seconds from start to the end (or, unfinished, to the last write)."""
        return round((self.finished or self.updated) - self.started, 3)

    def process_alive(self) -> bool | None:
        """Whether the indexing process still runs: ``None`` when it ran on another host."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True

    def in_progress(self, lock_free: bool | None = None) -> bool:
        """A run that is still going: ``running`` and its process alive (``lock_free``: nobody holds the
        embedded store's lock, which a live indexer always does)."""
        if self.state != "running" or lock_free:
            return False
        return self.process_alive() is not False

    def interrupted(self, lock_free: bool | None = None) -> bool:
        """A run that stopped before it finished: killed (``running``, no live process) or failed."""
        if self.state == "failed":
            return True
        return self.state == "running" and not self.in_progress(lock_free)

    def describe(self) -> str:
        """One line: ``complete: 105 files in 41.2s, ended 2026-12-06 01:10:03 UTC`` and the like."""
        if self.state == "complete":
            return (
                f"complete: {self.files_done} of {self.files_total} files in {self.duration:.1f}s, "
                f"finished {_when(self.finished)}"
            )
        progress = f"{self.files_done} of {self.files_total} files"
        if self.chunks_total:
            progress += f", {self.chunks_done} of {self.chunks_total} chunks"
        if self.state == "failed":
            return f"failed after {progress}, at {_when(self.finished or self.updated)}: {self.error}"
        return f"{progress}, started {_when(self.started)}, last progress {_when(self.updated)}"


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def write_run_file(folder: Path, run: RunRecord) -> None:
    """Write ``run`` to ``folder/last_run.json`` atomically (a reader sees the old or the new record)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{RUN_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(run.to_dict(), indent=1), encoding="utf-8")
    os.replace(tmp, folder / RUN_FILE)


def read_run_file(folder: Path) -> RunRecord | None:
    """The record in ``folder/last_run.json``, or ``None`` (no run recorded, or an unreadable file)."""
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return RunRecord.from_dict(data)
