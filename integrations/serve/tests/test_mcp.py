"""The MCP server, driven by the SDK's own client: over stdio (a real ``loracode serve --stdio`` process)
and over streamable HTTP (``/mcp`` of a live server)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = {"search_code", "find_similar_code", "index_status"}
ORPHAN = "def orphan_helper_xyz(values):\n    return [v * 3 for v in values if v]\n"


def _structured(result) -> object:
    assert not result.is_error, result.content
    data = result.structured_content
    return data["result"] if isinstance(data, dict) and set(data) == {"result"} else data


async def _exercise(session: ClientSession) -> dict[str, object]:
    await session.initialize()
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    # a search waits for the first index pass after start; the status then says "ready"
    similar = _structured(await session.call_tool("find_similar_code", {"code": ORPHAN, "k": 3}))
    status = _structured(await session.call_tool("index_status", {}))
    globbed = _structured(
        await session.call_tool("search_code", {"query": "values", "k": 10, "path_glob": "lib/**"})
    )
    bad_glob = await session.call_tool("search_code", {"query": "x", "path_glob": "../../etc/*"})
    bad_k = await session.call_tool("search_code", {"query": "x", "k": 100000})
    return {
        "tools": tools,
        "status": status,
        "similar": similar,
        "globbed": globbed,
        "bad_glob": bad_glob,
        "bad_k": bad_k,
    }


def _check(out: dict, root: Path) -> None:
    tools = out["tools"]
    assert set(tools) == TOOLS
    schema = tools["search_code"].input_schema
    assert schema["required"] == ["query"]
    assert set(schema["properties"]) == {"query", "k", "language", "path_glob", "mode"}
    assert schema["properties"]["k"]["maximum"] == 100 and schema["properties"]["k"]["minimum"] == 1
    assert set(tools["find_similar_code"].input_schema["properties"]) == {"code", "language", "k"}
    assert all(len(tools[name].description) > 60 for name in TOOLS)
    status = out["status"]
    assert status["root"] == str(root.resolve()) and status["state"] == "ready"
    assert status["files"] == 4 and set(status["languages"]) == {"python", "go"}
    top = out["similar"][0]
    assert (top["path"], top["symbol"], top["start_line"]) == ("lib/orphan.py", "orphan_helper_xyz", 1)
    assert top["score"] > 0.99 and top["snippet"].startswith("def orphan_helper_xyz")
    assert out["globbed"] and {h["path"] for h in out["globbed"]} == {"lib/orphan.py"}
    assert out["bad_glob"].is_error and "path_glob" in out["bad_glob"].content[0].text
    assert out["bad_k"].is_error and "k" in out["bad_k"].content[0].text


@pytest.fixture
def mcp_tree(tree: Path) -> Path:
    (tree / "lib").mkdir()
    (tree / "lib" / "orphan.py").write_text(ORPHAN)
    return tree


def test_stdio_with_the_sdk_client(mcp_tree, tiny_bundle, tiny_model):
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "loracode_embed.cli",
            "serve",
            str(mcp_tree),
            "--stdio",
            "--model",
            str(tiny_bundle),
            "--device",
            "cpu",
            "--dtype",
            "float32",
        ],
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )

    async def run() -> dict:
        with anyio.fail_after(120):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                out = await _exercise(session)
                # the stdio server also listens on a free loopback port for `loracode search`
                server = json.loads((mcp_tree / ".loracode" / "server.json").read_text())
                async with httpx.AsyncClient() as client:
                    health = (await client.get(f"http://127.0.0.1:{server['port']}/v1/health")).json()
                out["health"] = health
                return out

    out = anyio.run(run)
    _check(out, mcp_tree)
    assert out["health"]["root"] == str(mcp_tree.resolve())
    assert not (mcp_tree / ".loracode" / "server.json").exists()  # removed when the server stopped


def test_streamable_http_with_the_sdk_client(mcp_tree, warm, live):
    warm.refresh()  # picks up lib/orphan.py

    async def run() -> dict:
        with anyio.fail_after(60):
            async with (
                streamable_http_client(live.url + "/mcp") as (read, write, *_),
                ClientSession(read, write) as s,
            ):
                return await _exercise(s)

    _check(anyio.run(run), mcp_tree)
