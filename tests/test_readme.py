"""Every Python example in README.md runs, and needs nothing beyond the install commands the README gives.

The README's "By hand" block is the base install; a ``bash`` block with ``pip install`` in the same
section, above an example, adds to it. The packages an example imports must be reachable from those
commands through the dependency metadata (the projects' pyproject files, then installed metadata),
so an example that needs an extra the README forgot to install fails here, not on a user's machine.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
HEADING = re.compile(r"^#{2,3} ", re.M)


def _blocks() -> list[tuple[str, str, str]]:
    """(section heading, language, code) for every fenced block, in order."""
    text = README.read_text(encoding="utf-8")
    starts = [m.start() for m in HEADING.finditer(text)] + [len(text)]
    blocks = []
    for begin, end in zip(starts, starts[1:], strict=False):
        section = text[begin:end]
        title = section.splitlines()[0].lstrip("# ").strip()
        blocks += [(title, m.group(1), m.group(2)) for m in FENCE.finditer(section)]
    return blocks


def _pip_specs(code: str) -> list[str]:
    """The requirement arguments of every ``pip install`` in a shell block (options dropped)."""
    specs = []
    for command in re.split(r"&&|\n|;", code.replace("\\\n", " ")):
        if "pip install" not in command:
            continue
        words = shlex.split(command.split("#")[0])
        if words[:2] != ["pip", "install"]:
            continue
        skip_next = False
        for word in words[2:]:
            if skip_next:
                skip_next = False
            elif word in ("-c", "-r", "--constraint"):
                skip_next = True
            elif not word.startswith("-"):
                specs.append(word)
    return specs


def _base_install() -> list[str]:
    for title, language, code in _blocks():
        if title == "Set up" and language == "bash" and "pip install" in code:
            return _pip_specs(code)
    raise AssertionError("README.md has no `pip install` block under 'Set up'")


def _examples() -> list[tuple[str, str, list[str]]]:
    """(section, code, install specs) for each Python block."""
    examples, extra, current = [], [], None
    for title, language, code in _blocks():
        if title != current:
            extra, current = [], title
        if language == "bash":
            extra += _pip_specs(code)
        elif language == "python":
            examples.append((title, code, _base_install() + extra))
    return examples


@cache
def _local_projects() -> dict[Path, dict]:
    """Folder -> [project] table, for the four distributions in this repository."""
    found = {}
    for pyproject in [ROOT / "pyproject.toml", *sorted(ROOT.glob("integrations/*/pyproject.toml"))]:
        found[pyproject.parent] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return found


def _local_by_name(name: str) -> dict | None:
    for project in _local_projects().values():
        if canonicalize_name(project["name"]) == name:
            return project
    return None


def _requirements_of(name: str, extras: set[str]) -> list[str]:
    project = _local_by_name(name)
    if project is not None:
        optional = project.get("optional-dependencies", {})
        unknown = extras - set(optional)
        assert not unknown, f"README installs {name}[{','.join(sorted(unknown))}]: no such extra"
        return list(project.get("dependencies", [])) + [r for e in sorted(extras) for r in optional[e]]
    return list(importlib.metadata.requires(name) or [])


def _closure(specs: list[str]) -> set[str]:
    """Every distribution the install commands bring in."""
    todo: list[tuple[str, set[str]]] = []
    for spec in specs:
        match = re.fullmatch(r"(\.[^\[]*)(?:\[(.*)\])?", spec)
        if match:  # a local folder
            folder = (ROOT / match.group(1)).resolve()
            assert folder in _local_projects(), f"README installs {spec!r}: not a project folder"
            extras = set(filter(None, (match.group(2) or "").split(",")))
            todo.append((canonicalize_name(_local_projects()[folder]["name"]), extras))
        else:
            requirement = Requirement(spec)
            todo.append((canonicalize_name(requirement.name), set(requirement.extras)))
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    while todo:
        name, extras = todo.pop()
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        names.add(name)
        for text in _requirements_of(name, extras):
            requirement = Requirement(text)
            environments = [{"extra": e} for e in extras] or [{"extra": ""}]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environments):
                continue
            todo.append((canonicalize_name(requirement.name), set(requirement.extras)))
    return names


@cache
def _file_owners() -> dict[Path, str]:
    owners = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            if file.suffix == ".py":
                owners[Path(dist.locate_file(file)).resolve()] = canonicalize_name(dist.metadata["Name"])
    return owners


def _distribution_of(module: str) -> str | None:
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"module {module!r} is not installed"
    if spec.origin in (None, "built-in", "frozen"):
        return None
    origin = Path(spec.origin).resolve()
    if "site-packages" in origin.parts:  # (a virtual environment may sit inside the repository)
        return _file_owners().get(origin)
    for folder in sorted(_local_projects(), key=lambda p: len(p.parts), reverse=True):
        if folder in origin.parents:
            return canonicalize_name(_local_projects()[folder]["name"])
    return _file_owners().get(origin)


def _imported_modules(code: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}


EXAMPLES = _examples()


def test_readme_has_the_examples():
    assert [title for title, _, _ in EXAMPLES] == ["Python", "LangChain", "LlamaIndex"]


@pytest.mark.parametrize(("title", "code", "specs"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_imports_come_from_its_install_commands(title, code, specs):
    installed = _closure(specs)
    missing = {m: _distribution_of(m) for m in _imported_modules(code)}
    missing = {m: d for m, d in missing.items() if d is not None and d not in installed}
    assert not missing, f"README {title!r} example imports {missing} beyond `pip install {' '.join(specs)}`"


def test_a_missing_extra_is_caught():
    """The check itself can fail: without [qdrant], the LangChain example's imports are not installed."""
    code = next(code for title, code, _ in EXAMPLES if title == "LangChain")
    installed = _closure([*_base_install(), "./integrations/langchain"])
    assert _distribution_of("langchain_qdrant") not in installed
    assert "langchain_qdrant" in _imported_modules(code)


@pytest.mark.parametrize(("title", "code"), [(t, c) for t, c, _ in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_example_runs(title, code, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "cli.py").write_text(
        "import argparse\n\n\ndef parse_args(argv):\n"
        '    """Parse the command-line arguments."""\n'
        "    parser = argparse.ArgumentParser()\n"
        '    parser.add_argument("--verbose", action="store_true")\n'
        "    return parser.parse_args(argv)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    if title == "LangChain":
        assert "def read_yaml" in done.stdout
    if title == "LlamaIndex":
        assert "parse_args" in done.stdout
