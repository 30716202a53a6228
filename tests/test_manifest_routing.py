import json

import pytest

from loracode_embed.manifest import AdapterEntry, BaseRef, Manifest, ManifestError
from loracode_embed.routing import route, routing_table


def _manifest_dict(**adapters):
    return {
        "format": "loracode-bundle",
        "format_version": 1,
        "base": {"name": "tiny"},
        "embedding_dim": 32,
        "adapters": adapters,
    }


def _adapter(task="text2code", kind="task", path="adapters/x", languages=()):
    return {"task": task, "kind": kind, "path": path, "languages": list(languages)}


def test_roundtrip(tmp_path):
    m = Manifest(
        base=BaseRef(name="b", sha256="ab"),
        embedding_dim=8,
        adapters={"text2code": AdapterEntry(task="text2code", kind="task", path="adapters/text2code")},
    )
    m.save(tmp_path)
    loaded = Manifest.load(tmp_path)
    assert loaded.to_dict() == m.to_dict()
    assert loaded.fingerprint() == m.fingerprint()


def test_fingerprint_changes_with_adapter_weights():
    a = Manifest.from_dict(_manifest_dict(text2code={**_adapter(), "sha256": "1"}))
    b = Manifest.from_dict(_manifest_dict(text2code={**_adapter(), "sha256": "2"}))
    assert a.fingerprint() != b.fingerprint()


@pytest.mark.parametrize("path", ["../evil", "/etc/passwd", "adapters/../../x", "C:\\x", "a\\b"])
def test_paths_cannot_leave_the_bundle(path):
    with pytest.raises(ManifestError, match="must be relative and stay inside the bundle"):
        Manifest.from_dict(_manifest_dict(text2code=_adapter(path=path)))


@pytest.mark.parametrize("name", ["../x", "a/b", "auto", "base", "", ".hidden"])
def test_bad_adapter_names(name):
    with pytest.raises(ManifestError):
        Manifest.from_dict(_manifest_dict(**{name: _adapter()}))


def test_bad_fields_are_named():
    with pytest.raises(ManifestError, match="task 'nl2sql'"):
        Manifest.from_dict(_manifest_dict(x=_adapter(task="nl2sql")))
    with pytest.raises(ManifestError, match="exactly one language"):
        Manifest.from_dict(_manifest_dict(x=_adapter(kind="language", languages=["python", "go"])))
    with pytest.raises(ManifestError, match="Unknown language 'cobol'"):
        Manifest.from_dict(_manifest_dict(x=_adapter(kind="language", languages=["cobol"])))
    with pytest.raises(ManifestError, match="format_version 2"):
        Manifest.from_dict({**_manifest_dict(), "format_version": 2})
    with pytest.raises(ManifestError, match="embedding_dim"):
        Manifest.from_dict({**_manifest_dict(), "embedding_dim": 0})


def test_two_adapters_may_not_claim_one_route():
    with pytest.raises(ManifestError, match="both claim"):
        Manifest.from_dict(_manifest_dict(a=_adapter(path="a"), b=_adapter(path="b")))


def test_missing_and_invalid_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a loracode bundle"):
        Manifest.load(tmp_path)
    (tmp_path / "loracode.json").write_text("{nope")
    with pytest.raises(ManifestError, match="invalid JSON"):
        Manifest.load(tmp_path)
    (tmp_path / "loracode.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ManifestError, match="not a loracode manifest"):
        Manifest.load(tmp_path)


ADAPTERS = Manifest.from_dict(
    _manifest_dict(
        **{
            "text2code": _adapter(path="a/t"),
            "text2code-python": _adapter(kind="language", languages=["python"], path="a/p"),
            "text2code-go": _adapter(kind="language", languages=["go"], path="a/g"),
            "code2code": _adapter(task="code2code", path="a/c"),
        }
    )
).adapters


def test_fallback_chain():
    assert route(ADAPTERS, "text2code", "py").adapter == "text2code-python"
    assert route(ADAPTERS, "text2code", "py").fallback == "language"
    assert route(ADAPTERS, "text2code", "ruby").adapter == "text2code"
    assert route(ADAPTERS, "text2code", "ruby").fallback == "task"
    assert route(ADAPTERS, "text2code", None).adapter == "text2code"
    assert route(ADAPTERS, "code2code", "go").adapter == "code2code"
    only_go = {k: v for k, v in ADAPTERS.items() if k == "text2code-go"}
    assert route(only_go, "text2code", "python").fallback == "base"
    assert route(only_go, "text2code", "python").adapter is None


def test_route_errors():
    with pytest.raises(ValueError, match="Unknown language 'cobol'"):
        route(ADAPTERS, "text2code", "cobol")
    with pytest.raises(ValueError, match="Unknown task 'sql'"):
        route(ADAPTERS, "sql", None)
    with pytest.raises(TypeError, match="task must be a string"):
        route(ADAPTERS, None, None)


def test_routing_table_covers_every_language_per_task():
    table = routing_table(ADAPTERS, ("python", "ruby"))
    assert [(r.task, r.language, r.adapter) for r in table] == [
        ("text2code", None, "text2code"),
        ("text2code", "python", "text2code-python"),
        ("text2code", "ruby", "text2code"),
        ("code2code", None, "code2code"),
        ("code2code", "python", "code2code"),
        ("code2code", "ruby", "code2code"),
    ]
