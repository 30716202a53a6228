"""MultiDeviceModel on two CPU replicas of the tiny model: same vectors as one model, in input order."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CODE_SAMPLES, TINY_BASE, tiny_adapter_specs

from loracode_embed.multi_device import MultiDeviceModel, parse_devices, plan_chunks

# Mixed languages (python has its own adapter, go/None fall back to the task adapter), mixed lengths.
TEXTS = [f"{sample}# variant {i} {'x ' * (i % 7)}" for i, sample in enumerate(CODE_SAMPLES * 9)]
LANGUAGES = [("python", "go", None, "javascript")[i % 4] for i in range(len(TEXTS))]
QUERIES = [
    "read a yaml file into a dict",
    "def add(a, b): return a + b",
    "sort a list of tuples by the second item",
    "for (int i = 0; i < n; i++) { sum += a[i]; }",
] * 10


@pytest.fixture(scope="module")
def multi(tiny_model):
    from loracode_embed import LoRACodeModel

    second = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu")
    with MultiDeviceModel.from_models([tiny_model, second]) as model:
        yield model


def test_multi_encode_code_matches_single_device_in_order(multi, tiny_model) -> None:
    expected = tiny_model.encode_code(TEXTS, languages=LANGUAGES, batch_size=4)
    got = multi.encode_code(TEXTS, languages=LANGUAGES, batch_size=4)
    assert got.shape == (len(TEXTS), tiny_model.embedding_dim) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)
    # Several adapters really were used, and rows are not all alike (so order is actually checked).
    assert {tiny_model.route("text2code", lang) for lang in LANGUAGES} == {"text2code-python", "text2code"}
    assert not np.allclose(got[0], got[1], atol=1e-3)


def test_multi_encode_code_paths_task_and_forced_adapter(multi, tiny_model) -> None:
    paths = [f"f{i}.{('py', 'go', 'rb')[i % 3]}" for i in range(len(TEXTS))]
    for kwargs in ({"paths": paths, "task": "code2code"}, {"languages": "python", "adapter": "base"}):
        expected = tiny_model.encode_code(TEXTS, batch_size=3, **kwargs)
        np.testing.assert_allclose(multi.encode_code(TEXTS, batch_size=3, **kwargs), expected, atol=1e-6)


def test_multi_encode_query_auto_task_matches(multi, tiny_model) -> None:
    for language in (None, "python"):
        expected = tiny_model.encode_query(QUERIES, language=language, batch_size=4)
        got = multi.encode_query(QUERIES, language=language, batch_size=4)
        np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)


def test_multi_work_is_shared_by_both_replicas(multi) -> None:
    calls = {id(r): 0 for r in multi.replicas}
    originals = {id(r): r.encode_code for r in multi.replicas}
    for replica in multi.replicas:

        def counting(*args, _r=replica, **kwargs):
            calls[id(_r)] += 1
            return originals[id(_r)](*args, **kwargs)

        replica.encode_code = counting
    try:
        multi.encode_code(TEXTS, languages="python", batch_size=2)
    finally:
        for replica in multi.replicas:
            del replica.encode_code
    assert all(n >= 1 for n in calls.values()), calls


def test_multi_small_and_empty_calls(multi, tiny_model) -> None:
    assert multi.encode_code([], batch_size=4).shape == (0, tiny_model.embedding_dim)
    np.testing.assert_allclose(
        multi.encode_query(["parse json"]), tiny_model.encode_query(["parse json"]), atol=1e-6
    )
    assert multi.count_tokens(["hello world", ""]) == tiny_model.count_tokens(["hello world", ""])
    assert multi.adapters == tiny_model.adapters and multi.fingerprint == tiny_model.fingerprint
    assert multi.max_seq_length == tiny_model.max_seq_length
    assert multi.route("text2code", "py") == "text2code-python"


def test_multi_errors_name_the_global_index(multi) -> None:
    with pytest.raises(TypeError, match=r"texts\[50\]"):
        multi.encode_code([*TEXTS[:50], None], batch_size=4)
    with pytest.raises(ValueError, match=r"languages\[41\]"):
        multi.encode_code(TEXTS[:50], languages=["python"] * 41 + ["cobol"] * 9, batch_size=4)
    with pytest.raises(ValueError, match="Unknown adapter 'nope'"):
        multi.encode_query(QUERIES, adapter="nope", batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        multi.encode_query(QUERIES, batch_size=0)
    long_text = "word " * (multi.max_seq_length + 10)
    with pytest.raises(ValueError, match=r"texts\[30\] is longer"):
        multi.encode_code([*TEXTS[:30], long_text], batch_size=4, strict=True)


def test_multi_error_in_a_replica_reaches_the_caller(multi) -> None:
    replica = multi.replicas[1]
    replica.encode_code = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("replica 1 broke"))
    try:
        with pytest.raises(RuntimeError, match="replica 1 broke"):
            multi.encode_code(TEXTS, languages="python", batch_size=2)
    finally:
        del replica.encode_code


@pytest.mark.parametrize(
    ("devices", "error", "match"),
    [
        ([], ValueError, "at least one device"),
        ("", ValueError, "at least one device"),
        (["cuda:0", "gpu:1"], ValueError, r"devices\[1\]: 'gpu:1' is not a torch device"),
        (["cuda:0", "cuda:0"], ValueError, r"devices\[1\]: 'cuda:0' is listed twice"),
        ("cuda:1,cuda,cuda:0", ValueError, r"devices\[2\]: 'cuda:0' is listed twice"),
        (["cuda:0", 1], TypeError, r"devices\[1\] must be a device string"),
        (3, TypeError, "devices must be a list"),
    ],
)
def test_bad_devices_raise(devices, error, match) -> None:
    with pytest.raises(error, match=match):
        parse_devices(devices)
    with pytest.raises(error, match=match):
        MultiDeviceModel.from_base(TINY_BASE, devices=devices)


def test_parse_devices_accepts_lists_and_comma_strings() -> None:
    assert parse_devices("cuda:0, cuda:1") == ["cuda:0", "cuda:1"]
    assert parse_devices(["cpu", "cpu"]) == ["cpu", "cpu"]


def test_missing_cuda_device_is_a_clear_error() -> None:
    import torch

    if torch.cuda.is_available():
        bad = f"cuda:{torch.cuda.device_count()}"
        match = "CUDA device"
    else:
        bad, match = "cuda:0", "CUDA is not available"
    with pytest.raises(ValueError, match=match):
        MultiDeviceModel.from_base(TINY_BASE, devices=["cpu", bad])


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend must be one of thread, process"):
        MultiDeviceModel.from_base(TINY_BASE, devices="cpu,cpu", backend="mpi")


def test_from_models_refuses_different_weights(tiny_model) -> None:
    from loracode_embed import LoRACodeModel

    other = LoRACodeModel.from_base(TINY_BASE, device="cpu")  # no adapters: another fingerprint
    with pytest.raises(ValueError, match=r"models\[1\] has other weights"):
        MultiDeviceModel.from_models([tiny_model, other])


def test_plan_chunks_covers_every_index_once_in_whole_batches() -> None:
    texts = ["x" * (i % 13) for i in range(1000)]
    keys = [("a", "b", None)[i % 3] for i in range(1000)]
    plan = plan_chunks(texts, keys, batch_size=16, replicas=2)
    flat = sorted(i for _, indices in plan for i in indices)
    assert flat == list(range(1000))
    assert all({keys[i] for i in indices} == {key} for key, indices in plan)
    assert len(plan) >= 2 * 4  # enough chunks for work stealing
    assert all(len(indices) % 16 == 0 for _, indices in plan[: len(plan) // 2])  # big ones: whole batches


def test_process_backend_matches_single_device(tiny_model) -> None:
    with MultiDeviceModel.from_base(
        TINY_BASE, adapters=tiny_adapter_specs(), devices=["cpu", "cpu"], backend="process"
    ) as model:
        assert model.backend == "process" and model.devices == ["cpu", "cpu"]
        got = model.encode_code(TEXTS, languages=LANGUAGES, batch_size=4)
        np.testing.assert_allclose(
            got, tiny_model.encode_code(TEXTS, languages=LANGUAGES, batch_size=4), atol=1e-6
        )
        assert model.count_tokens(["hello world"]) == tiny_model.count_tokens(["hello world"])
        with pytest.raises(ValueError, match="Unknown language"):
            model.encode_query(QUERIES, language="cobol", batch_size=4)


def test_embed_cli_devices_flag_matches_one_device(tiny_bundle, capsys, monkeypatch) -> None:
    import io
    import json

    from loracode_embed.cli import main

    lines = "\n".join(t.replace("\n", " ") or "empty" for t in TEXTS) + "\n"
    outputs = {}
    for flag in (["--devices", "cpu,cpu"], ["--device", "cpu"], ["--devices", "cpu"]):
        monkeypatch.setattr("sys.stdin", io.StringIO(lines))
        argv = ["embed", "--code", "--language", "python", "--batch-size", "4", "--model", str(tiny_bundle)]
        assert main([*argv, *flag]) == 0
        outputs[" ".join(flag)] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    multi = outputs["--devices cpu,cpu"]
    assert [r["index"] for r in multi] == list(range(len(TEXTS)))
    assert {r["adapter"] for r in multi} == {"text2code-python"}
    for other in ("--device cpu", "--devices cpu"):
        assert len(outputs[other]) == len(multi)
        np.testing.assert_allclose(
            [r["vector"] for r in multi], [r["vector"] for r in outputs[other]], atol=1e-6
        )
    assert main(["embed", "--devices", "cpu,gpu0", "x"]) == 1
    assert "--devices[1]: 'gpu0' is not a torch device" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["embed", "--device", "cpu", "--devices", "cpu,cpu", "x"])
    assert "not allowed with argument" in capsys.readouterr().err
