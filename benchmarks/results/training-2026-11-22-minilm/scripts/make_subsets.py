"""Build the carried data subsets (run here, on the CPU dev machine).

    PYTHONPATH=/work/main /tmp/venv/bin/python carry/scripts/make_subsets.py

Writes under /work/main/carry/:
  corpus/<lang>/train-00000.jsonl.gz   up to 40,000 train pairs per language (random.Random(0).sample), fields id/query/code/language
  corpus/<lang>/valid-00000.jsonl.gz   the whole mined valid split (same fields)
  corpus/unified/train-00000.jsonl.gz  balanced ~60k mixture drawn from the language subsets above
  corpus/unified/valid-00000.jsonl.gz  up to 1,000 valid pairs per language (dev for the unified adapter)
  corpus/code2code/train-00000.jsonl.gz        CodeXGLUE Java<->C# train, both directions (20,590)
  corpus/code2code/valid-00000.jsonl.gz        CodeXGLUE Java->C# valid (499) + anonymised-Java->C# valid (dev only)
  corpus/code2code_anon/train-00000.jsonl.gz   variant: the above + anonymised Java->C# train + anon(code)->code on train subsets
  eval/...                                     test splits + CoSQA test + Java-C# test + advtest sets (evaluation only)
  subsets.json                                 counts and sha256 of every file written
"""
import gzip, hashlib, json, random, shutil, sys
from pathlib import Path

sys.path.insert(0, "/work/main")
from loracode_embed.mining.anonymise import anonymise  # noqa: E402

CORPUS = Path("/work/corpus")
SHARED = Path("/work/shared/data")
OUT = Path("/work/main/carry")
LANGS = ["python", "go", "java", "javascript", "php", "ruby"]
KEEP = ("id", "query", "code", "language")
MAX_TRAIN = 40000
UNIFIED_TOTAL = 60000
ANON_PER_LANG = 3000


def read(path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write(path, recs):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as gz:
        for r in recs:
            gz.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
    return {"file": str(path.relative_to(OUT)), "pairs": len(recs),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}


def strip(r):
    return {k: r[k] for k in KEEP if k in r}


def safe_anon(code, lang):
    try:
        a = anonymise(code, lang)
    except Exception:
        return None
    return a if a and a != code else None


def main():
    for sub in ("corpus", "eval"):
        shutil.rmtree(OUT / sub, ignore_errors=True)
    report = {"files": [], "sources": {}}
    subsets = {}
    for lang in LANGS:
        src = CORPUS / lang / "train-00000.jsonl.gz"
        rows = read(src)
        report["sources"][str(src)] = {"pairs": len(rows), "sha256": hashlib.sha256(src.read_bytes()).hexdigest()}
        idx = sorted(random.Random(0).sample(range(len(rows)), min(MAX_TRAIN, len(rows))))
        sub = [strip(rows[i]) for i in idx]
        subsets[lang] = sub
        report["files"].append(write(OUT / "corpus" / lang / "train-00000.jsonl.gz", sub))
        valid = [strip(r) for r in read(CORPUS / lang / "valid-00000.jsonl.gz")]
        report["files"].append(write(OUT / "corpus" / lang / "valid-00000.jsonl.gz", valid))
        test = [strip(r) for r in read(CORPUS / lang / "test-00000.jsonl.gz")]
        report["files"].append(write(OUT / "eval" / f"{lang}-test.jsonl.gz", test))
    # unified mixture: small languages whole, the rest share the remainder equally
    quota = {}
    left, rest = UNIFIED_TOTAL, list(LANGS)
    for lang in sorted(LANGS, key=lambda l: len(subsets[l])):
        q = min(len(subsets[lang]), left // len(rest))
        quota[lang] = q
        left -= q
        rest.remove(lang)
    mix = []
    for lang in LANGS:
        pick = sorted(random.Random(1).sample(range(len(subsets[lang])), quota[lang]))
        mix.extend(subsets[lang][i] for i in pick)
    random.Random(2).shuffle(mix)
    report["unified_quota"] = quota
    report["files"].append(write(OUT / "corpus" / "unified" / "train-00000.jsonl.gz", mix))
    udev = []
    for lang in LANGS:
        v = [strip(r) for r in read(CORPUS / lang / "valid-00000.jsonl.gz")]
        pick = sorted(random.Random(3).sample(range(len(v)), min(1000, len(v))))
        udev.extend(v[i] for i in pick)
    report["files"].append(write(OUT / "corpus" / "unified" / "valid-00000.jsonl.gz", udev))
    # code2code
    jcs = SHARED / "codexglue-java-cs"
    def lines(split, ext):
        return (jcs / f"{split}.java-cs.txt.{ext}").read_text().splitlines()
    tj, tc = lines("train", "java"), lines("train", "cs")
    corpus_c2c = read(CORPUS / "code2code" / "java-csharp-train.jsonl.gz")
    same = [(r["query"], r["code"]) for r in corpus_c2c] == list(zip(tj, tc))
    report["code2code_corpus_train_equals_codexglue_train"] = same
    c2c = [{"id": f"jcs-train-{i}-j2c", "query": j, "code": c} for i, (j, c) in enumerate(zip(tj, tc))]
    c2c += [{"id": f"jcs-train-{i}-c2j", "query": c, "code": j} for i, (j, c) in enumerate(zip(tj, tc))]
    if not same:  # add whatever the corpus file has beyond CodeXGLUE train
        seen = {(r["query"], r["code"]) for r in c2c}
        c2c += [strip(r) for r in corpus_c2c if (r["query"], r["code"]) not in seen]
    report["files"].append(write(OUT / "corpus" / "code2code" / "train-00000.jsonl.gz", c2c))
    vj, vc = lines("valid", "java"), lines("valid", "cs")
    dev = [{"id": f"jcs-valid-{i}", "query": j, "code": c} for i, (j, c) in enumerate(zip(vj, vc))]
    anon_dev = []
    for i, (j, c) in enumerate(zip(vj, vc)):
        a = safe_anon(j, "java")
        if a:
            anon_dev.append({"id": f"jcs-valid-{i}-anon", "query": a, "code": c})
    report["files"].append(write(OUT / "corpus" / "code2code" / "valid-00000.jsonl.gz", dev))
    report["files"].append(write(OUT / "eval" / "jcs-valid-anon.jsonl.gz", anon_dev))
    # advtest-style dev sets on the valid splits (anonymised valid code -> original), for picking code2code
    for lang in LANGS:
        v = [strip(r) for r in read(CORPUS / lang / "valid-00000.jsonl.gz")]
        pick = sorted(random.Random(4).sample(range(len(v)), min(1000, len(v))))
        recs = []
        for i in pick:
            a = safe_anon(v[i]["code"], lang)
            if a:
                recs.append({"id": v[i]["id"], "query": a, "code": v[i]["code"]})
        report["files"].append(write(OUT / "eval" / f"advdev-{lang}-valid.jsonl.gz", recs))
    # variant with anonymised augmentation (train splits only)
    aug = list(c2c)
    for i, (j, c) in enumerate(zip(tj, tc)):
        a = safe_anon(j, "java")
        if a:
            aug.append({"id": f"jcs-train-{i}-anon", "query": a, "code": c})
    for lang in LANGS:
        pick = sorted(random.Random(5).sample(range(len(subsets[lang])), min(ANON_PER_LANG, len(subsets[lang]))))
        for i in pick:
            r = subsets[lang][i]
            a = safe_anon(r["code"], lang)
            if a:
                aug.append({"id": r["id"] + "-anon", "query": a, "code": r["code"]})
    random.Random(6).shuffle(aug)
    report["files"].append(write(OUT / "corpus" / "code2code_anon" / "train-00000.jsonl.gz", aug))
    # evaluation-only files
    for name in ("cosqa-retrieval-test-500.json", "code_idx_map.txt"):
        data = (SHARED / "cosqa" / name).read_bytes()
        p = OUT / "eval" / (name + ".gz")
        with gzip.GzipFile(p, "wb", mtime=0) as gz:
            gz.write(data)
    for ext in ("java", "cs"):
        p = OUT / "eval" / f"test.java-cs.txt.{ext}.gz"
        with gzip.GzipFile(p, "wb", mtime=0) as gz:
            gz.write((jcs / f"test.java-cs.txt.{ext}").read_bytes())
    for f in sorted((CORPUS / "code2code").glob("advtest-*-test.jsonl.gz")):
        shutil.copy(f, OUT / "eval" / f.name)
    report["eval_files"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((OUT / "eval").iterdir())}
    (OUT / "subsets.json").write_text(json.dumps(report, indent=1))
    for f in report["files"]:
        print(f["file"], f["pairs"], f["bytes"])


if __name__ == "__main__":
    main()
