"""QueryEncoder: search queries embedded with numpy alone, for commands that start, embed one query and exit.

A cold ``loracode search`` spent 7-10 s importing torch, transformers, sentence-transformers and peft and
loading nine models, to embed one query in 18 ms. This module embeds queries with the same base encoder
and adapters using only numpy, the ``tokenizers`` library and ``safetensors``: the base weights are read
once, and an adapter is read only when a call needs it (its low-rank update, ``scale * B @ A @ x``, is
added to the layers it adapts). The vectors are those of :class:`~loracode_embed.model.LoRACodeModel` in
float32 (cosine >= 0.99999, tested against it).

Supported: BERT and RoBERTa encoders (MiniLM, the default base, is a BERT), mean pooling, plain LoRA
on Linear layers. Anything else raises :class:`UnsupportedModel` at load time; callers then use
``LoRACodeModel`` (as ``loracode search`` does).

Example:
    >>> encoder = QueryEncoder.from_pretrained()
    >>> encoder.encode_query(["read a yaml file into a dict"], language="python").shape
    (1, 384)
    >>> encoder.route("text2code", "go")
    'text2code-go'
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from loracode_embed.inputs import check_texts
from loracode_embed.languages import canonical_language
from loracode_embed.loading import (
    DEFAULT_BUNDLE,
    cached_sha256,
    check_no_code,
    checked_adapter_folder,
    resolve_base,
    weights_file,
)
from loracode_embed.manifest import ADAPTER_CONFIG, ADAPTER_WEIGHTS, Manifest, ManifestError
from loracode_embed.routing import QUERY_TASKS, check_task, named_adapter, route

logger = logging.getLogger(__name__)

_ARCHITECTURES = ("bert", "roberta")


class UnsupportedModel(ValueError):
    """The model cannot run on the numpy path (architecture, pooling or adapter type); use LoRACodeModel."""


class QueryEncoder:
    """Embeds search queries with a bundle's base encoder and adapters, on numpy (CPU, float32).

    Offers the query side of :class:`~loracode_embed.model.LoRACodeModel` (``encode_query``,
    ``encode_query_in_spaces``, ``route``, ``classify_query``, ``fingerprint``, ``adapters``,
    ``embedding_dim``), which is what a search needs. Adapters are loaded on first use.

    Example:
        >>> QueryEncoder.from_pretrained().loaded_adapters
        []
    """

    def __init__(self, manifest: Manifest, base_path: Path, adapter_folders: Mapping[str, Path]) -> None:
        # Private: use from_pretrained.
        self.manifest = manifest
        self.base_path = base_path
        self._adapter_folders = dict(adapter_folders)
        config = json.loads((base_path / "config.json").read_text(encoding="utf-8"))
        self._config = config
        model_type = config.get("model_type")
        if model_type not in _ARCHITECTURES or config.get("hidden_act", "gelu") != "gelu":
            raise UnsupportedModel(f"{base_path}: model_type {model_type!r} is not supported by QueryEncoder")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise UnsupportedModel(f"{base_path}: only absolute position embeddings are supported")
        _check_pooling(base_path)
        self._roberta = model_type == "roberta"
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._weights = _load_weights(weights_file(base_path))
        self._layers = int(config["num_hidden_layers"])
        self.max_seq_length = _max_seq_length(base_path, config)
        self._tokenizer = _load_tokenizer(base_path, self.max_seq_length)
        self._pad_id = int(config.get("pad_token_id") or 0)
        self._lora: dict[
            str, dict[str, tuple[np.ndarray, np.ndarray]]
        ] = {}  # adapter -> {weight: (A, scale*B)}
        self._logged_routes: set[tuple[str, str | None]] = set()

    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike[str] | None = None, *, base: str | os.PathLike[str] | None = None
    ) -> QueryEncoder:
        """Load a bundle (``None``: the default bundle) with the checks of ``LoRACodeModel.from_pretrained``.

        Raises:
            ManifestError: as ``LoRACodeModel.from_pretrained`` (malformed manifest, altered files,
                another base model).
            UnsupportedModel: the base or an adapter needs the torch path.
        """
        bundle_dir = Path(path) if path is not None else DEFAULT_BUNDLE
        manifest = Manifest.load(bundle_dir)
        folders = {
            name: checked_adapter_folder(bundle_dir, name, entry) for name, entry in manifest.adapters.items()
        }
        base_path = resolve_base(manifest.base, base)
        check_no_code(base_path, False)
        if manifest.base.sha256:
            actual = cached_sha256(weights_file(base_path))
            if actual != manifest.base.sha256:
                raise ManifestError(
                    f"The base model at {base_path} is not the one this bundle was built on "
                    f"({manifest.base.name!r}): weights sha256 {actual[:12]}... != {manifest.base.sha256[:12]}..."
                )
        for name, folder in folders.items():
            check_no_code(folder, False)
            _check_lora_config(name, folder)
        encoder = cls(manifest, base_path, folders)
        dim = int(encoder._config["hidden_size"])
        if dim != manifest.embedding_dim:
            raise ManifestError(
                f"{bundle_dir}: manifest says embedding_dim={manifest.embedding_dim}, "
                f"but the base model at {base_path} produces {dim}"
            )
        return encoder

    # ------------------------------------------------------------------ the LoRACodeModel query API

    @property
    def adapters(self) -> list[str]:
        """Names of the adapters in this bundle, sorted."""
        return sorted(self.manifest.adapters)

    @property
    def loaded_adapters(self) -> list[str]:
        """The adapters read so far (each on its first use), sorted."""
        return sorted(self._lora)

    @property
    def embedding_dim(self) -> int:
        return self.manifest.embedding_dim

    @property
    def fingerprint(self) -> str:
        """As :attr:`LoRACodeModel.fingerprint`: equal fingerprints give equal vectors."""
        return self.manifest.fingerprint()

    def route(self, task: str = "text2code", language: str | None = None) -> str | None:
        """The adapter that ``task`` and ``language`` route to, or ``None`` for the base model."""
        decision = route(self.manifest.adapters, task, language)
        key = (decision.task, decision.language)
        if key not in self._logged_routes:
            self._logged_routes.add(key)
            logger.info("Routing %s", decision.describe())
        return decision.adapter

    def classify_query(self, text: str) -> str:
        """``"code2code"`` if ``text`` looks like code, else ``"text2code"``."""
        from loracode_embed.query_type import classify_query

        return classify_query(text)

    def encode_query(
        self,
        texts: Sequence[str],
        language: str | None = None,
        task: str = "auto",
        *,
        adapter: str = "auto",
        batch_size: int = 32,
        strict: bool = False,
    ) -> np.ndarray:
        """Embed search queries, as :meth:`LoRACodeModel.encode_query` (``batch_size`` is accepted and unused).

        Example:
            >>> QueryEncoder.from_pretrained().encode_query(["sort a list", "def f(): pass"]).shape
            (2, 384)
        """
        texts = check_texts(texts, "texts")
        check_task(task, QUERY_TASKS)
        if language is not None:
            canonical_language(language)
        if adapter == "auto":
            tasks = [task if task != "auto" else self.classify_query(text) for text in texts]
            names = [self.route(t, language) for t in tasks]
        else:
            names = [self._named_adapter(adapter)] * len(texts)
        out = np.empty((len(texts), self.embedding_dim), dtype=np.float32)
        for i, (text, name) in enumerate(zip(texts, names, strict=True)):
            out[i] = self._embed(text, name, strict, "texts")
        return out

    def encode_query_in_spaces(
        self, query: str, adapters: Sequence[str], *, strict: bool = False
    ) -> np.ndarray:
        """One query in several adapters' spaces (row ``i``: ``adapters[i]``; ``"base"``: the backbone).

        Example:
            >>> QueryEncoder.from_pretrained().encode_query_in_spaces("read a file", ["base", "text2code"]).shape
            (2, 384)
        """
        (query,) = check_texts([query], "query")
        if isinstance(adapters, str):
            raise TypeError("adapters must be a list of adapter names, not a string")
        names = [self._named_adapter(name) for name in adapters]
        if not names:
            return np.empty((0, self.embedding_dim), dtype=np.float32)
        return self._forward_spaces(self._tokenize(query, strict, "query"), names)

    def close(self) -> None:
        """Nothing to release (present for symmetry with multi-device models)."""

    def __repr__(self) -> str:
        return f"QueryEncoder(base={self.manifest.base.name!r}, adapters={self.adapters})"

    # ------------------------------------------------------------------ internals

    def _named_adapter(self, adapter: object) -> str | None:
        return named_adapter(adapter, self.manifest.adapters)

    def _tokenize(self, text: str, strict: bool, argument: str) -> np.ndarray:
        encoding = self._tokenizer.encode(text)
        if encoding.overflowing:
            if strict:
                raise ValueError(
                    f"{argument} is longer than the model's limit of {self.max_seq_length} tokens; "
                    "shorten it or pass strict=False to truncate"
                )
            logger.warning("1 of 1 inputs exceed %d tokens and were truncated", self.max_seq_length)
        return np.asarray(encoding.ids, dtype=np.int64)

    def _embed(self, text: str, adapter: str | None, strict: bool, argument: str) -> np.ndarray:
        return self._forward(self._tokenize(text, strict, argument), adapter)

    def _adapter_weights(self, adapter: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{base weight name: (A, scale * B)}`` of ``adapter`` (read on first use)."""
        if adapter not in self._lora:
            self._lora[adapter] = _read_adapter(self._adapter_folders[adapter], self._weights, adapter)
            logger.info("Loaded adapter %s", adapter)
        return self._lora[adapter]

    def _forward(self, ids: np.ndarray, adapter: str | None) -> np.ndarray:
        """One sequence through the encoder, mean-pooled and L2-normalised (float32)."""
        return self._forward_spaces(ids, [adapter])[0]

    def _forward_spaces(self, ids: np.ndarray, adapters: Sequence[str | None]) -> np.ndarray:
        """One sequence through the encoder once per adapter (row ``s``: ``adapters[s]``), as one batch:
        the base weights multiply all rows at once and each row adds its own adapter's low-rank update.

        BLAS runs on one thread here: these products are small, and on a busy 2-core machine a second
        thread made a six-space query 10x slower (0.53 s against 0.055 s).
        """
        with _one_blas_thread():
            return self._forward_spaces_unlimited(ids, adapters)

    def _forward_spaces_unlimited(self, ids: np.ndarray, adapters: Sequence[str | None]) -> np.ndarray:
        w = self._weights
        n, spaces = len(ids), len(adapters)
        positions = np.arange(n) + (self._pad_id + 1 if self._roberta else 0)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        x = np.broadcast_to(x, (spaces, *x.shape))
        heads = self._heads
        loras = [self._adapter_weights(a) if a is not None else {} for a in adapters]
        for i in range(self._layers):
            p = f"encoder.layer.{i}."

            def linear(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                key = p + name + ".weight"
                flat = h.reshape(-1, h.shape[-1])
                out = ((w[key] @ flat.T).T + w[p + name + ".bias"]).reshape(spaces, n, -1)  # W @ h.T: fast
                for row, lora in enumerate(loras):
                    if key in lora:
                        a, b = lora[key]
                        out[row] += (h[row] @ a.T) @ b.T
                return out

            q, k, v = (linear(x, f"attention.self.{m}") for m in ("query", "key", "value"))
            d = q.shape[-1] // heads
            q, k, v = (t.reshape(spaces, n, heads, d).transpose(0, 2, 1, 3) for t in (q, k, v))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(spaces, n, heads * d)
            attention = linear(context, "attention.output.dense")
            x = _layer_norm(
                attention + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            inner = _gelu(linear(x, "intermediate.dense"))
            x = _layer_norm(
                linear(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self._eps,
            )
        pooled = x.mean(axis=1)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)


def _one_blas_thread() -> Any:
    """A context that limits BLAS to one thread (threadpoolctl, which scikit-learn brings; else a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - always there with sentence-transformers' scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to about 1e-7 (Abramowitz and Stegun 7.1.26 is 1.5e-7; this is Numerical Recipes' erfc, 1.2e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))  # fmt: skip
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0)


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU that BERT's ``hidden_act="gelu"`` means, computed in float64."""
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + _erf(x64 / math.sqrt(2.0)))).astype(np.float32)


def _load_weights(path: Path) -> dict[str, np.ndarray]:
    """The base weights as float32 arrays, names without a ``bert.`` / ``roberta.`` prefix."""
    from safetensors.numpy import load_file

    weights = {}
    for name, array in load_file(str(path)).items():
        for prefix in ("bert.", "roberta.", "model."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        weights[name] = array.astype(np.float32, copy=False)
    if "embeddings.word_embeddings.weight" not in weights:
        raise UnsupportedModel(f"{path}: no BERT-style weight names (embeddings.word_embeddings.weight)")
    return weights


def _check_pooling(base_path: Path) -> None:
    """Mean pooling then (optionally) Normalize, as sentence-transformers' default; refuse anything else."""
    modules_file = base_path / "modules.json"
    if not modules_file.is_file():
        return  # sentence-transformers builds Transformer + mean pooling for a plain transformers model
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise UnsupportedModel(
            f"{base_path}: modules {kinds} are not Transformer, Pooling (mean)[, Normalize]"
        )
    pooling_dir = base_path / str(modules[1].get("path", ""))
    config = json.loads((pooling_dir / "config.json").read_text(encoding="utf-8"))
    modes = [key for key, on in config.items() if key.startswith("pooling_mode") and on]
    if modes != ["pooling_mode_mean_tokens"]:
        raise UnsupportedModel(f"{pooling_dir}: pooling {modes} is not mean pooling")


def _max_seq_length(base_path: Path, config: dict[str, Any]) -> int:
    """The token limit sentence-transformers applies: its config, else the tokenizer's, else the model's."""
    limit = int(config.get("max_position_embeddings", 512))
    if config.get("model_type") == "roberta":
        limit -= int(config.get("pad_token_id") or 1) + 1
    st_config = base_path / "sentence_bert_config.json"
    if st_config.is_file():
        value = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length")
        if value:
            return min(int(value), limit)
    tok_config = base_path / "tokenizer_config.json"
    if tok_config.is_file():
        value = json.loads(tok_config.read_text(encoding="utf-8")).get("model_max_length")
        if isinstance(value, int) and value < 1_000_000:
            return min(value, limit)
    return limit


def _load_tokenizer(base_path: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    path = base_path / "tokenizer.json"
    if not path.is_file():
        raise UnsupportedModel(f"{base_path}: no tokenizer.json (a fast tokenizer file is needed)")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return tokenizer


def _check_lora_config(name: str, folder: Path) -> None:
    config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    plain = (
        config.get("peft_type", "LORA") == "LORA"
        and not config.get("use_dora")
        and not config.get("lora_bias")
        and not config.get("fan_in_fan_out")
        and not config.get("rank_pattern")
        and not config.get("alpha_pattern")
        and not config.get("modules_to_save")
        and config.get("bias", "none") == "none"
    )
    if not plain:
        raise UnsupportedModel(f"adapter {name!r}: only plain LoRA on Linear layers runs on the numpy path")


def _read_adapter(
    folder: Path, base: Mapping[str, np.ndarray], name: str
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{base weight name: (A, scale * B)}`` for every layer the adapter in ``folder`` changes."""
    from safetensors.numpy import load_file

    config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    r = int(config["r"])
    alpha = float(config.get("lora_alpha", r))
    scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    tensors = load_file(str(folder / ADAPTER_WEIGHTS))
    lora: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, a in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[: -len(".lora_A.weight")]
        for prefix in ("base_model.model.", "bert.", "roberta.", "model."):
            if module.startswith(prefix):
                module = module[len(prefix) :]
        b = tensors[key.replace(".lora_A.", ".lora_B.")]
        target = module + ".weight"
        if target not in base:
            raise ManifestError(f"adapter {name!r} from {folder} does not fit the base model: no {target}")
        shape = (b.shape[0], a.shape[1])
        if shape != base[target].shape or a.shape[0] != b.shape[1]:
            raise ManifestError(
                f"adapter {name!r} from {folder} does not fit the base model: {target} is "
                f"{base[target].shape}, the LoRA update {shape}"
            )
        lora[target] = (a.astype(np.float32), b.astype(np.float32) * np.float32(scale))
    return lora
