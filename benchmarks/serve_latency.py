"""Search latency through a running `loracode serve`: `loracode search` from the shell, HTTP `/v1/search`,
and the MCP `search_code` tool over streamable HTTP (the SDK's client), p50/p95 wall.

A copy of some standard-library packages is indexed and served (default bundle, CPU, dtype auto) on a
free loopback port; each path then answers QUERIES x REPEATS searches (k=10; 60 by default) in turn.

    python benchmarks/serve_latency.py          # with loracode-serve installed (make install)
    BASELINE_LORACODE=/other/venv/bin/loracode python benchmarks/serve_latency.py   # before/after

Run it with the interpreter of the install to measure: a user's regular (non-editable) install, e.g.
``pip install . ./integrations/qdrant ./integrations/serve[test]`` into a fresh venv, starts faster than
a development venv whose editable installs add import finders at every start. With EDITABLE_LORACODE
(the ``loracode`` script of an editable install of the same code) that one is timed too, with its own
``python -c pass`` floor.

With BASELINE_LORACODE (the ``loracode`` script of another install, e.g. of main in a second worktree),
that one's shell search is timed against the same server, alternating query by query with this one, so
both see the same machine load, and its output is compared with this one's. The floor is timed the same
way: ``python -c pass`` and ``python -c "import loracode_embed"`` with this interpreter (site-packages and
.pth files included, as for a console script). The load average is sampled at every round, and each
shell command's own CPU time (user + system, from ``getrusage``) is recorded beside its wall time: on a
loaded machine wall time is mostly waiting for a core, CPU time is not.

Writes benchmarks/results/serve_latency.json (RESULTS=NAME for another name).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import anyio
import httpx

SOURCE_PACKAGES = os.environ.get("SOURCE_PACKAGES", "json,http").split(",")
REPEATS = int(os.environ.get("REPEATS", "10"))
BASELINE = os.environ.get("BASELINE_LORACODE")
EDITABLE = os.environ.get("EDITABLE_LORACODE")
WORK = Path(os.environ.get("WORKDIR", tempfile.mkdtemp(prefix="loracode-serve-latency-")))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("RESULTS", "serve_latency.json")
QUERIES = ["parse a json document", "send an http request with headers", "read the response body",
           "encode a string as json", "def loads(s): return decode(s)", "split a url into parts"]  # fmt: skip


#: Timed from the shell, in turn for each query: this install's ``loracode search``, the baseline's (with
#: BASELINE_LORACODE) and the floor (the interpreter alone, and with the core package imported).
SHELL_COMMANDS = {
    "loracode_search_cli": ["{loracode}", "search", "-k", "10", "{query}"],
    "baseline_loracode_search_cli": ["{baseline}", "search", "-k", "10", "{query}"],
    "editable_loracode_search_cli": ["{editable}", "search", "-k", "10", "{query}"],
    "floor_python_c_pass": ["{python}", "-c", "pass"],
    "floor_import_loracode_embed": ["{python}", "-c", "import loracode_embed"],
    "floor_editable_python_c_pass": ["{editable_python}", "-c", "pass"],
}


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1)}  # fmt: skip


def main() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    tree = WORK / "tree"
    for name in SOURCE_PACKAGES:
        shutil.copytree(stdlib / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "test*"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = open(WORK / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "loracode_embed.cli", "serve", str(tree), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while True:
            try:
                status = httpx.get(url + "/v1/status", timeout=5).json()
                if status["state"] == "ready":
                    break
            except (httpx.HTTPError, KeyError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: see {WORK / 'server.log'}")
            time.sleep(0.5)
        queries = QUERIES * REPEATS
        shell: dict[str, list[float]] = {
            name: [] for name in SHELL_COMMANDS
            if (BASELINE or "baseline" not in name) and (EDITABLE or "editable" not in name)
        }  # fmt: skip
        values = {"python": sys.executable, "loracode": str(Path(sys.executable).with_name("loracode")),
                  "baseline": BASELINE, "editable": EDITABLE,
                  "editable_python": EDITABLE and str(Path(EDITABLE).with_name("python"))}  # fmt: skip
        loads: list[float] = []
        cpu: dict[str, list[float]] = {name: [] for name in shell}  # the process's own CPU time
        outputs_differ = 0
        for round_, q in enumerate([QUERIES[0], *queries]):  # alternating, so each command sees the same load
            loads.append(os.getloadavg()[0])
            outputs = {}
            for name, times in shell.items():
                command = [arg.format(**values, query=q) for arg in SHELL_COMMANDS[name]]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                done = subprocess.run(command, cwd=tree, check=True, capture_output=True)
                wall = time.perf_counter() - t
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if round_:  # the first round warms the page cache
                    times.append(wall)
                    cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                outputs[name] = done.stdout
            searches = [out for name, out in outputs.items() if name.endswith("search_cli")]
            outputs_differ += any(out != searches[0] for out in searches)
        cli, http_times = shell.pop("loracode_search_cli"), []
        with httpx.Client(base_url=url) as client:
            for q in queries:
                t = time.perf_counter()
                client.post("/v1/search", json={"query": q, "k": 10}).raise_for_status()
                http_times.append(time.perf_counter() - t)

        async def mcp_times() -> list[float]:
            from mcp import ClientSession
            from mcp.client.streamable_http import streamable_http_client

            out = []
            async with (
                streamable_http_client(url + "/mcp") as (read, write, *_),
                ClientSession(read, write) as s,
            ):
                await s.initialize()
                for q in queries:
                    t = time.perf_counter()
                    result = await s.call_tool("search_code", {"query": q, "k": 10})
                    assert not result.is_error
                    out.append(time.perf_counter() - t)
            return out

        mcp = anyio.run(mcp_times)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    result = {
        "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at end",
        "python": sys.executable,
        "load_average_1min_during_shell_rounds": {"min": min(loads), "median": sorted(loads)[len(loads) // 2],
                                                  "max": max(loads)},
        "shell_search_outputs_differing_rounds": outputs_differ,
        "source_packages": SOURCE_PACKAGES, "files": status["files"], "chunks": status["chunks"],
        "loracode_search_cli": percentiles(cli), "http_v1_search": percentiles(http_times),
        "mcp_search_code_streamable_http": percentiles(mcp),
        **{name: percentiles(times) for name, times in shell.items()},
        "shell_process_cpu_ms_user_plus_sys": {name: percentiles(times) for name, times in cpu.items()},
    }  # fmt: skip
    if BASELINE:
        result["baseline"] = {"loracode": BASELINE, "commit": os.environ.get("BASELINE_COMMIT")}
    if EDITABLE:
        result["editable"] = {"loracode": EDITABLE}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
