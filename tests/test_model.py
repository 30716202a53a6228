"""LoRACodeModel on the tiny committed RoBERTa: routing, per-call adapters, bad input, threads."""

import logging
import threading

import numpy as np
import pytest
from conftest import CODE_SAMPLES, TINY_BASE, tiny_adapter_specs

from loracode_embed import LoRACodeModel


def test_shapes_dtype_and_norm(tiny_model):
    vectors = tiny_model.encode_code(CODE_SAMPLES, languages="python")
    assert vectors.shape == (len(CODE_SAMPLES), tiny_model.embedding_dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_list_gives_zero_rows(tiny_model):
    assert tiny_model.encode_query([]).shape == (0, 32)
    assert tiny_model.encode_code([], languages=[]).shape == (0, 32)


def test_empty_string_is_embedded(tiny_model):
    vector = tiny_model.encode_code([""], languages="python")
    assert np.isfinite(vector).all() and abs(np.linalg.norm(vector) - 1) < 1e-5


def test_adapters_listed_and_routed(tiny_model):
    assert tiny_model.adapters == ["code2code", "text2code", "text2code-python"]
    assert tiny_model.route("text2code", "python") == "text2code-python"
    assert tiny_model.route("text2code", "ruby") == "text2code"
    assert tiny_model.route("text2code") == "text2code"
    assert tiny_model.route("code2code", "python") == "code2code"


def test_each_adapter_changes_the_vector(tiny_model):
    text = [CODE_SAMPLES[0]]
    by_adapter = {
        name: tiny_model.encode_code(text, adapter=name)[0] for name in [*tiny_model.adapters, "base"]
    }
    names = sorted(by_adapter)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(by_adapter[a] - by_adapter[b]).max() > 1e-3, (a, b)


def test_routing_reaches_the_adapter(tiny_model):
    text = [CODE_SAMPLES[0]]
    np.testing.assert_array_equal(
        tiny_model.encode_code(text, languages="python"),
        tiny_model.encode_code(text, adapter="text2code-python"),
    )
    np.testing.assert_array_equal(
        tiny_model.encode_code(text, languages="ruby"), tiny_model.encode_code(text, adapter="text2code")
    )
    np.testing.assert_array_equal(
        tiny_model.encode_code(text, task="code2code"), tiny_model.encode_code(text, adapter="code2code")
    )


def test_mixed_languages_keep_input_order(tiny_model):
    langs = ["python", "go", "java", "python", None, "ruby"]
    mixed = tiny_model.encode_code(CODE_SAMPLES, languages=langs)
    for i, (text, lang) in enumerate(zip(CODE_SAMPLES, langs, strict=True)):
        single = tiny_model.encode_code([text], languages=[lang])
        np.testing.assert_allclose(mixed[i], single[0], atol=1e-6)


def test_paths_map_to_language_adapters(tiny_model):
    by_path = tiny_model.encode_code(CODE_SAMPLES[:2], paths=["x/a.py", "b.go"])
    by_lang = tiny_model.encode_code(CODE_SAMPLES[:2], languages=["python", "go"])
    np.testing.assert_allclose(by_path, by_lang, atol=1e-6)


def test_query_task_auto_uses_code2code_for_code(tiny_model):
    code = "def parse(s):\n    return json.loads(s)\n"
    auto = tiny_model.encode_query([code], language="python")
    forced = tiny_model.encode_query([code], language="python", task="code2code")
    np.testing.assert_array_equal(auto, forced)
    nl = "read a yaml file into a dict"
    np.testing.assert_array_equal(
        tiny_model.encode_query([nl], language="python"),
        tiny_model.encode_query([nl], language="python", task="text2code"),
    )


# Golden vectors: the first values of fixed inputs through the committed tiny model and adapters.
# They change only if the model, the adapters, pooling or normalisation change.
GOLDEN = {
    "base": [0.175659, -0.249363, -0.058679, -0.298354, 0.213481, 0.109695],
    "text2code-python": [0.177056, -0.216393, -0.015419, -0.274188, 0.195456, 0.117438],
    "code2code": [0.147744, -0.26331, -0.055792, -0.32521, 0.205775, 0.106455],
}


@pytest.mark.parametrize("adapter", sorted(GOLDEN))
def test_golden_vectors(tiny_model, adapter):
    vector = tiny_model.encode_code(["def add(a, b):\n    return a + b\n"], adapter=adapter)[0]
    np.testing.assert_allclose(vector[:6], GOLDEN[adapter], atol=1e-5)


def test_adapter_matches_a_plain_peft_reference(tiny_model):
    """An independent computation: PEFT on transformers, mean pooling, L2 normalisation."""
    import torch
    from peft import PeftModel
    from transformers import AutoModel

    texts = CODE_SAMPLES[:4]
    reference = PeftModel.from_pretrained(
        AutoModel.from_pretrained(str(TINY_BASE)), str(tiny_adapter_specs()["text2code-python"])
    ).eval()
    batch = tiny_model.tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = reference(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    ours = tiny_model.encode_code(texts, languages="python")
    assert np.abs(ours - pooled).max() <= 1e-5


def test_threads_give_the_same_vectors_as_serial_calls(tiny_model):
    jobs = [(adapter, CODE_SAMPLES) for adapter in ["base", *tiny_model.adapters]] * 2
    serial = [tiny_model.encode_code(texts, adapter=adapter) for adapter, texts in jobs]
    results: list = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def work(i, adapter, texts):
        barrier.wait()
        for _ in range(3):
            results[i] = tiny_model.encode_code(texts, adapter=adapter, batch_size=2)

    threads = [threading.Thread(target=work, args=(i, *job)) for i, job in enumerate(jobs)]
    assert len(threads) == 8
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, serial, strict=True):
        assert np.abs(got - want).max() <= 1e-6


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("texts", "error", "match"),
    [
        (None, TypeError, "texts must be a list of strings, got None"),
        ("abc", TypeError, "not a single str"),
        (["ok", None], TypeError, r"texts\[1\] must be a string, got NoneType"),
        (["ok", "ok", 3], TypeError, r"texts\[2\] must be a string, got int"),
        ([b"bytes"], TypeError, r"texts\[0\] must be a string, got bytes"),
    ],
)
def test_bad_texts(tiny_model, texts, error, match):
    with pytest.raises(error, match=match):
        tiny_model.encode_query(texts)
    with pytest.raises(error, match=match):
        tiny_model.encode_code(texts)


def test_bad_arguments_are_named(tiny_model):
    with pytest.raises(ValueError, match="Unknown language 'cobol'"):
        tiny_model.encode_query(["x"], language="cobol")
    with pytest.raises(ValueError, match=r"languages\[1\]: Unknown language 'klingon'"):
        tiny_model.encode_code(["a", "b"], languages=["python", "klingon"])
    with pytest.raises(ValueError, match="languages has 1 items but texts has 2"):
        tiny_model.encode_code(["a", "b"], languages=["python"])
    with pytest.raises(TypeError, match=r"languages\[0\] must be a string"):
        tiny_model.encode_code(["a"], languages=[3])
    with pytest.raises(ValueError, match="either languages= or paths="):
        tiny_model.encode_code(["a"], languages="python", paths=["a.py"])
    with pytest.raises(ValueError, match="Unknown task 'auto'"):
        tiny_model.encode_code(["a"], task="auto")
    with pytest.raises(ValueError, match="Unknown task 'sql'"):
        tiny_model.encode_query(["a"], task="sql")
    with pytest.raises(ValueError, match="Unknown adapter 'nope'. Available: code2code, text2code"):
        tiny_model.encode_query(["a"], adapter="nope")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        tiny_model.encode_query(["a"], batch_size=0)


def test_long_inputs_truncate_with_one_warning_or_raise(tiny_model, caplog):
    long_text = "x = 1\n" * 200
    with caplog.at_level(logging.WARNING, logger="loracode_embed.model"):
        vectors = tiny_model.encode_code([long_text, "short", long_text], languages="python")
    assert vectors.shape == (3, 32)
    warnings = [r for r in caplog.records if "truncated" in r.getMessage()]
    assert len(warnings) == 1 and "2 of 3 inputs exceed 128 tokens" in warnings[0].getMessage()
    with pytest.raises(ValueError, match=r"texts\[1\] is longer than the model.s limit of 128 tokens"):
        tiny_model.encode_code(["short", long_text], strict=True)


def test_count_tokens(tiny_model):
    counts = tiny_model.count_tokens(["a", "x = 1\n" * 50])
    assert counts[0] < 5 and counts[1] > 128


def test_dtype_and_device_arguments():
    with pytest.raises(ValueError, match="dtype must be one of"):
        LoRACodeModel.from_base(TINY_BASE, device="cpu", dtype="float64")
    model = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu", dtype="bfloat16")
    import torch

    assert model.dtype == torch.bfloat16 and str(model.device) == "cpu"
    assert model.encode_code(CODE_SAMPLES[:2], languages="python").dtype == np.float32


def test_from_base_with_explicit_specs():
    model = LoRACodeModel.from_base(
        TINY_BASE,
        adapters={
            "my-adapter": {
                "path": tiny_adapter_specs()["text2code-python"],
                "task": "text2code",
                "languages": ["python"],
                "kind": "language",
            }
        },
        device="cpu",
    )
    assert model.route("text2code", "python") == "my-adapter"
    assert model.manifest.adapters["my-adapter"].lora["r"] == 4
    with pytest.raises(ValueError, match="cannot tell its task from the name"):
        LoRACodeModel.from_base(
            TINY_BASE, adapters={"mystery": tiny_adapter_specs()["text2code"]}, device="cpu"
        )
    with pytest.raises(TypeError, match=r"adapters\['text2code'\] must be a directory path"):
        LoRACodeModel.from_base(TINY_BASE, adapters={"text2code": 3}, device="cpu")


def test_fingerprint_depends_on_adapters(tiny_model):
    bare = LoRACodeModel.from_base(TINY_BASE, device="cpu")
    assert bare.fingerprint != tiny_model.fingerprint
    assert len(tiny_model.fingerprint) == 16
