"""Build the mining corpus from the download cache: unpack, mine, deduplicate, split, shard, check overlaps.

Usage::

    python trainers/data/build.py [--cache ~/.cache/loracode/sources] [--out /work/corpus]
                                  [--staging /tmp/loracode-staging] [--workers 2]

Languages come from the source kind: PyPI wheels give Python; Debian ``golang-*`` Go, ``ruby-*`` Ruby,
``php-*`` PHP, ``node-*`` JavaScript; npm tarballs (``npm pack``) JavaScript; Debian source packages of ``lib*-java`` and the JDK's ``src.zip``
(``openjdk-17-source``; each JDK module is its own split unit) give Java. The split unit ("package") is the
PyPI project, the npm package or the Debian *source* package, so binaries built from one repository share a split.
Holdout projects are dropped by package name and by path (vendored copies); pairs whose code (or token
sequence) appears in ``shared/data`` are dropped; the final shards are re-read to verify both.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from loracode_embed.mining.corpus import build_corpus  # noqa: E402
from loracode_embed.mining.dedup import code_sha, token_sha  # noqa: E402
from loracode_embed.mining.holdout import holdout_path_hit, is_holdout_package  # noqa: E402
from loracode_embed.mining.runner import iter_tasks, mine_tree  # noqa: E402
from loracode_embed.mining.shards import read_shard  # noqa: E402

logger = logging.getLogger("build")
# npm tarballs: built bundles (which may inline dependencies, holdout projects among them) are not mined;
# the package's own src/ or lib/ files are.
NPM_BUNDLE_DIRS = frozenset({"dist", "umd", "bundle", "bundles", "min", "browser", "cdn", "esm-browser"})
NPM_BUNDLE_FILE = re.compile(r"[.-](?:min|bundle|umd|browser)\.(?:m|c)?js$|\.map$")
DEB_LANG = {"golang-": "go", "ruby-": "ruby", "php-": "php", "node-": "javascript"}


def _deb_fields(deb: Path) -> dict[str, str]:
    out = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Package", "Source", "Version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(line.split(": ", 1) for line in out.strip().split("\n") if ": " in line)
    fields["Source"] = fields.get("Source", fields.get("Package", deb.stem)).split(" ")[0]
    return fields


def unpack(cache: Path, staging: Path) -> tuple[list[tuple[Path, str, str, str, str]], Counter]:
    """Unpack every cached archive; returns (dir, package, version, language, source kind) units."""
    units: list[tuple[Path, str, str, str, str]] = []
    skipped: Counter = Counter()

    def do_wheel(whl: Path):
        name, version = whl.name.split("-")[:2]
        pkg = re.sub(r"[-_.]+", "-", name).lower()
        if is_holdout_package("pypi", pkg):
            skipped["holdout_package"] += 1
            return None
        dest = staging / "pypi" / pkg
        if not dest.exists():
            with zipfile.ZipFile(whl) as zf:
                zf.extractall(dest)
        return (dest, pkg, version, "python", "pypi")

    def do_deb(deb: Path):
        f = _deb_fields(deb)
        if is_holdout_package("debian", f["Package"]) or is_holdout_package("debian", f["Source"]):
            skipped["holdout_package"] += 1
            return None
        dest = staging / "deb" / f["Package"]
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
        if f["Package"].startswith("openjdk-"):
            zips = list(dest.rglob("src.zip"))
            jdk = staging / "jdk"
            if zips and not jdk.exists():
                with zipfile.ZipFile(zips[0]) as zf:
                    zf.extractall(jdk)
            return [
                (m, f"openjdk-17:{m.name}", f["Version"], "java", "debian-openjdk")
                for m in sorted(jdk.iterdir())
                if m.is_dir()
            ]
        lang = next((v for k, v in DEB_LANG.items() if f["Package"].startswith(k)), None)
        if lang is None:
            skipped["no_language"] += 1
            return None
        return (dest, f["Source"], f["Version"], lang, "debian")

    def do_npm(tgz: Path):
        with tarfile.open(tgz) as tf:
            member = next(
                (m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/package.json")),
                None,
            )
            if member is None:
                skipped["bad_archive"] += 1
                return None
            meta = json.loads(tf.extractfile(member).read())
            name, version = meta["name"], meta["version"]
            bundled = meta.get("bundleDependencies") or meta.get("bundledDependencies") or []
            if is_holdout_package("npm", name) or any(is_holdout_package("npm", b) for b in bundled):
                skipped["holdout_package"] += 1
                return None
            dest = staging / "npm" / name.lstrip("@").replace("/", "__")
            if not dest.exists():
                dest.mkdir(parents=True)
                keep = []
                for m in tf.getmembers():
                    parts = m.name.split("/")
                    if any(p.lower() in NPM_BUNDLE_DIRS for p in parts[1:-1]) or NPM_BUNDLE_FILE.search(
                        parts[-1]
                    ):
                        skipped["npm_bundle_files"] += m.isfile()
                        continue
                    keep.append(m)
                tf.extractall(dest, members=keep, filter="data")
        return (dest, name, version, "javascript", "npm")

    def do_src(orig: Path):
        name, version = orig.name.split("_")[:2]
        version = version.split(".orig")[0]
        if is_holdout_package("debian", name):
            skipped["holdout_package"] += 1
            return None
        dest = staging / "debsrc" / name
        if not dest.exists():
            dest.mkdir(parents=True)
            try:
                with tarfile.open(orig) as tf:
                    tf.extractall(dest, filter="data")
            except (tarfile.TarError, OSError, EOFError) as exc:
                logger.warning("cannot unpack %s: %s", orig.name, exc)
                skipped["bad_archive"] += 1
                return None
        return (dest, name, version, "java", "debian-src")

    jobs = [(do_wheel, p) for p in sorted((cache / "pypi").glob("*.whl"))]
    jobs += [(do_deb, p) for p in sorted((cache / "deb").glob("*.deb"))]
    jobs += [(do_npm, p) for p in sorted((cache / "npm").glob("*.tgz"))]
    origs = {}
    for p in sorted((cache / "debsrc").glob("*.orig.tar.*")):
        if ".asc" not in p.name:
            origs.setdefault(p.name.split("_")[0], p)
    jobs += [(do_src, p) for p in origs.values()]
    with ThreadPoolExecutor(4) as pool:
        for res in pool.map(lambda j: _safe(j[0], j[1], skipped), jobs):
            if res is None:
                continue
            units.extend(res if isinstance(res, list) else [res])
    return units, skipped


def _safe(fn, arg, skipped):
    try:
        return fn(arg)
    except Exception as exc:  # one broken archive never stops the build
        logger.warning("skipping %s: %s", arg, exc)
        skipped["bad_archive"] += 1
        return None


def shared_hashes(shared: Path) -> tuple[set[str], dict[str, int]]:
    """code_sha and token_sha of every code snippet in ``shared/data`` (all sets, all splits)."""
    codes: dict[str, list[str]] = {}

    def js(path):
        return json.loads(path.read_text())

    cosqa = shared / "cosqa"
    if cosqa.exists():
        lst = list(js(cosqa / "code_idx_map.txt").keys())
        for f in ("cosqa-dev.json", "cosqa-retrieval-dev-500.json", "cosqa-retrieval-test-500.json"):
            lst += [r["code"] for r in js(cosqa / f)]
        codes["cosqa"] = lst
    staqc = shared / "staqc"
    if staqc.exists():
        codes["staqc"] = [r["code"] for f in ("train_staqc.json", "dev_staqc.json") for r in js(staqc / f)]
    cloze = shared / "codexglue-cloze-csn"
    if cloze.exists():
        lst = []
        for f in sorted(cloze.glob("*.json")):
            for r in js(f):
                joined = " ".join(r["pl_tokens"])
                lst += [joined.replace("<mask>", "max"), joined.replace("<mask>", "min")]
        codes["codexglue-cloze-csn"] = lst
    jcs = shared / "codexglue-java-cs"
    if jcs.exists():
        codes["codexglue-java-cs"] = [
            ln for f in sorted(jcs.glob("*.txt.*")) for ln in f.read_text().splitlines()
        ]
    concode = shared / "concode"
    if concode.exists():
        codes["concode"] = [
            json.loads(ln)["code"] for ln in (concode / "dev.json").read_text().splitlines() if ln
        ]
    hashes: set[str] = set()
    for lst in codes.values():
        for c in lst:
            hashes.add(code_sha(c))
            hashes.add(token_sha(c))
    return hashes, {k: len(v) for k, v in codes.items()}


def verify(out: Path, shared: set[str], package_source: dict[tuple[str, str], str] | None = None) -> dict:
    """Re-read the shards: code hashes shared between splits, with shared/data, holdout hits."""
    split_of: dict[tuple[str, str], str] = {}
    cross = shared_hits = holdout_paths = holdout_pkgs = 0
    packages: dict[str, set[str]] = {}
    for shard in sorted(out.glob("*/*.jsonl.gz")):
        split = shard.name.split("-")[0]
        for r in read_shard(shard):
            key = (r["language"], r["code_sha"])
            if key in split_of and split_of[key] != split:
                cross += 1
            split_of.setdefault(key, split)
            if r["code_sha"] in shared or token_sha(r["code"]) in shared:
                shared_hits += 1
            if holdout_path_hit(r["path"]):
                holdout_paths += 1
            pkg = r["package"]
            default = "pypi" if r["language"] == "python" else "debian"
            kind = (package_source or {}).get((r["language"], pkg), default)
            src = kind if kind in ("pypi", "npm") else "debian"
            if is_holdout_package(src, pkg.split(":")[0]) or (
                src == "npm" and is_holdout_package("debian", "node-" + pkg)
            ):
                holdout_pkgs += 1
            packages.setdefault(split, set()).add(pkg)
    return {
        "code_hashes_in_two_splits": cross,
        "code_hashes_shared_with_shared_data": shared_hits,
        "pairs_from_holdout_paths": holdout_paths,
        "pairs_from_holdout_packages": holdout_pkgs,
        "pairs_checked": len(split_of),
        "packages_in_two_splits": len(set.intersection(*packages.values())) if len(packages) == 3 else 0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "loracode" / "sources")
    ap.add_argument("--out", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--staging", type=Path, default=Path("/tmp/loracode-staging"))
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--stats", type=Path, default=Path(__file__).resolve().parent / "stats.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not args.shared.exists():
        args.shared = Path("/work/shared/data")
    t0 = time.monotonic()
    units, skipped = unpack(args.cache, args.staging)
    t_unpack = time.monotonic() - t0
    logger.info("unpacked %d units in %.0fs (%s)", len(units), t_unpack, dict(skipped))
    package_source = {(lang, pkg): kind for _, pkg, _, lang, kind in units}

    def tasks():
        for dest, pkg, version, lang, _kind in units:
            yield from iter_tasks(dest, pkg, version, languages=[lang])

    pairs, mstats = mine_tree(tasks(), workers=args.workers, timeout_s=args.timeout)
    logger.info("mined %s", mstats.as_dict())
    excl, shared_counts = shared_hashes(args.shared)
    if args.out.exists():
        shutil.rmtree(args.out)
    corpus = build_corpus(pairs, args.out, exclude_hashes=excl, package_source=package_source)
    checks = verify(args.out, excl, package_source)
    units_by = Counter((kind, lang) for _, _, _, lang, kind in units)
    stats = {
        "mining": mstats.as_dict(),
        "unpack_seconds": round(t_unpack, 1),
        "archives_skipped": dict(skipped),
        "units": {f"{k}/{lang}": n for (k, lang), n in sorted(units_by.items())},
        "shared_data_snippets": shared_counts,
        "corpus": corpus,
        "checks": checks,
        "total_seconds": round(time.monotonic() - t0, 1),
    }
    args.stats.write_text(json.dumps(stats, indent=1))
    (args.out / "stats.json").write_text(json.dumps(stats, indent=1))
    print(json.dumps({k: v["splits"] for k, v in corpus["languages"].items()}, indent=1))
    print(json.dumps(checks, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
