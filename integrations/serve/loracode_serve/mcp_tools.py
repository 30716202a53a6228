"""The MCP server for coding agents (official ``mcp`` SDK): ``search_code``, ``find_similar_code``,
``index_status``.

The same :class:`~loracode_serve.warm.WarmIndex` serves it over stdio (``loracode serve --stdio``, what
an agent launches) and over streamable HTTP (``http://127.0.0.1:<port>/mcp`` of a running server). Bad
arguments come back as tool errors naming the argument (``is_error=True``), never as crashes.

Example:
    >>> import tempfile
    >>> from loracode_qdrant.testing import FakeModel
    >>> from loracode_serve.warm import WarmIndex
    >>> warm = WarmIndex(tempfile.mkdtemp(), model=FakeModel())
    >>> server = create_mcp(warm)
    >>> import anyio
    >>> sorted(tool.name for tool in anyio.run(server.list_tools))
    ['find_similar_code', 'index_status', 'search_code']
    >>> warm.close()
"""

# No `from __future__ import annotations`: the SDK reads the tools' annotations, which use local names.
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from loracode_serve.limits import RequestError
from loracode_serve.warm import SEARCH_MODES, WarmIndex

INSTRUCTIONS = (
    "Semantic code search over one source tree, kept current while files change. Use search_code to find "
    "where something is done from a description ('where do we retry HTTP requests?') or from a piece of "
    "code; find_similar_code to find code like a given snippet (duplicates, other implementations); "
    "index_status to see which tree is indexed, its languages and whether indexing is in progress. "
    "Results give path, line range, symbol and a snippet: open the file at those lines for the full code."
)


class CodeHit(BaseModel):
    """One search result."""

    path: str = Field(description="File path relative to the indexed tree")
    start_line: int = Field(description="First line of the chunk (1-based)")
    end_line: int = Field(description="Last line of the chunk (inclusive)")
    symbol: str | None = Field(description="Function, method or class name ('Class.method'), if any")
    kind: str = Field(description="function, class, module or window")
    language: str = Field(description="Language of the file")
    score: float = Field(description="Cosine similarity to the query (higher is closer)")
    snippet: str = Field(description="The first non-blank lines of the chunk")


_MODE_HELP = {
    "auto": "hybrid when the index has keyword vectors, else per-language",
    "per-language": "each language searched with its own adapter, results fused by rank",
    "unified": "one search in the shared space, all languages",
    "hybrid": "dense spaces and identifier-aware keyword search (BM25), fused",
    "sparse": "keyword search (BM25) only",
}


def _hits(hits: list[Any], snippet_lines: int) -> list[CodeHit]:
    return [
        CodeHit(
            path=h.path,
            start_line=h.start_line,
            end_line=h.end_line,
            symbol=h.symbol,
            kind=h.kind,
            language=h.language,
            score=h.score,
            snippet=h.snippet(snippet_lines),
        )
        for h in hits
    ]


def create_mcp(warm: WarmIndex, *, snippet_lines: int = 12) -> MCPServer:
    """An ``MCPServer`` with the three tools over ``warm``; input schemas carry ``warm.limits``.

    Args:
        warm: The index served.
        snippet_lines: Lines of code per hit in the results.
    """
    limits = warm.limits
    server = MCPServer("loracode", instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    Language = Annotated[
        str | None,
        Field(
            description="Only this programming language (python, go, java, javascript, typescript, ruby, "
            "php, rust, c, cpp, csharp...), searched with its language adapter. Default: all "
            "indexed languages. See index_status for the languages present."
        ),
    ]
    default_k = min(10, limits.max_k)
    mode_help = "; ".join(
        f"'{m}'{' (default)' if m == 'auto' else ''}: {_MODE_HELP.get(m, 'see docs/indexing.md')}"
        for m in SEARCH_MODES
    )
    K = Annotated[int, Field(ge=1, le=limits.max_k, description=f"Number of results (1 to {limits.max_k})")]

    @server.tool(annotations=read_only, structured_output=True)
    def search_code(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=limits.max_chars,
                description="What to find: a natural-language description ('parse the "
                "config file and apply defaults') or a piece of code",
            ),
        ],
        k: K = default_k,
        language: Language = None,
        path_glob: Annotated[
            str | list[str] | None,
            Field(
                description="Only files matching this glob or any of these globs, relative to the tree "
                "root, e.g. 'src/**/*.py' ('**' crosses folders). No '..' or absolute paths."
            ),
        ] = None,
        mode: Annotated[Literal[SEARCH_MODES], Field(description=mode_help)] = "auto",
    ) -> list[CodeHit]:
        """Search the indexed source tree for code matching a description or a code snippet.

        Returns the best chunks (functions, classes, or windows of a file), best first, each with its
        path, line range, symbol, language, score and a snippet. The query type (description or code) is
        detected.
        """
        try:
            return _hits(
                warm.search(query, k=k, language=language, path_glob=path_glob, mode=mode), snippet_lines
            )
        except RequestError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=read_only, structured_output=True)
    def find_similar_code(
        code: Annotated[
            str,
            Field(
                min_length=1,
                max_length=limits.max_chars,
                description="The code to find similar code for (a function, a few lines)",
            ),
        ],
        language: Language = None,
        k: K = default_k,
    ) -> list[CodeHit]:
        """Find code similar to a given snippet (near-duplicates, other implementations of the same thing).

        Uses the code-to-code adapter. Give the snippet's language to search that language only.
        """
        try:
            return _hits(warm.find_similar(code, language=language, k=k), snippet_lines)
        except RequestError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=read_only, structured_output=True)
    def index_status() -> dict[str, Any]:
        """Which tree is indexed and how current the index is.

        Returns root, state ('indexing', 'ready', 'error'), whether files are watched for changes,
        indexed languages, file and chunk counts, the last indexing run's summary, and the model's
        adapters.
        """
        return warm.status()

    return server
