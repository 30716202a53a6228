"""Download the pinned sources of the mining corpus into a cache, in bounded batches.

Usage::

    python trainers/data/download.py [--sources trainers/data/sources.txt] [--cache ~/.cache/loracode/sources]
                                     [--only pypi,deb,debsrc,npm] [--batch 50]

* ``pypi NAME==VER``: ``pip download --no-deps --only-binary :all:`` (a wheel holds the library's ``.py``
  files; downloading an sdist makes pip build its metadata, which installs build backends and takes
  ~25 s a project on the 2-core machine);
* ``deb NAME=VER``: ``apt-get download`` (Debian bookworm binary package, extracted later with dpkg-deb);
* ``debsrc NAME=VER``: ``apt-get source --download-only`` through a private deb-src list kept in the cache
  (the system's apt configuration is not touched);
* ``npm NAME@VER``: ``npm pack NAME@VER`` (the published tarball, nothing installed, no dependencies; a
  private npm cache under ``/tmp`` so the tarballs are not stored twice).

Already-downloaded files are kept (the cache is reused); failures are written to ``failures.txt`` in the
cache and never stop the run. Needs ``apt-get`` (Debian) for the Debian parts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("LORACODE_SOURCES", Path.home() / ".cache" / "loracode" / "sources"))
HERE = Path(__file__).resolve().parent
DEB_SRC = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def read_sources(path: Path) -> list[tuple[str, str, str]]:
    """(kind, name, version) triples from the pinned source list."""
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, spec = line.split(None, 1)
        if kind == "npm":  # NAME@VER; a scoped NAME starts with "@"
            name, version = spec.rsplit("@", 1)
        else:
            name, version = spec.split("==" if kind == "pypi" else "=", 1)
        out.append((kind, name.strip(), version.strip()))
    return out


def _run(cmd: list[str], cwd: Path, log) -> bool:
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.write(f"$ {' '.join(cmd[:6])} ... ({len(cmd)} args) -> {proc.returncode}\n{proc.stdout[-4000:]}\n")
    return proc.returncode == 0


def _apt_opts(cache: Path) -> list[str]:
    etc = cache / "apt" / "etc"
    return [
        "-o",
        f"Dir::Etc::SourceList={etc / 'none.list'}",
        "-o",
        f"Dir::Etc::SourceParts={etc}",
        "-o",
        f"Dir::State::Lists={cache / 'apt' / 'lists'}",
    ]


def npm_tarball_name(name: str, version: str) -> str:
    """The file ``npm pack`` writes: ``@scope/name`` 1.2.3 -> ``scope-name-1.2.3.tgz``."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _have(kind: str, name: str, version: str, folder: Path) -> bool:
    if kind == "pypi":
        stem = name.lower().replace("-", "_").replace(".", "_")
        return any(
            p.name.lower().replace("-", "_").replace(".", "_").startswith(f"{stem}_{version}".lower())
            or p.name.lower().startswith(f"{stem}-{version}")
            for p in folder.iterdir()
        )
    if kind == "npm":
        return (folder / npm_tarball_name(name, version)).exists()
    ver = version.split(":", 1)[-1]
    if kind == "deb":
        return any(p.name.startswith(f"{name}_") and p.suffix == ".deb" for p in folder.iterdir())
    return any(p.name.startswith(f"{name}_") and p.name.endswith(".dsc") for p in folder.iterdir()) or any(
        p.name.startswith(f"{name}_{ver}") for p in folder.iterdir()
    )


def download(sources: Path, cache: Path, only: set[str], batch: int) -> int:
    """Fetch every pinned source not yet in ``cache``; returns the number of failures."""
    items = [s for s in read_sources(sources) if s[0] in only]
    failures: list[str] = []
    log = open(cache / "download.log", "a")  # noqa: SIM115
    for kind in ("pypi", "deb", "debsrc", "npm"):
        folder = cache / kind
        folder.mkdir(parents=True, exist_ok=True)
        todo = [(n, v) for k, n, v in items if k == kind and not _have(k, n, v, folder)]
        print(f"{kind}: {len(todo)} to fetch", flush=True)
        if kind == "debsrc" and todo:
            etc = cache / "apt" / "etc"
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "none.list").write_text("")
            (etc / "src.sources").write_text(DEB_SRC)
            (cache / "apt" / "lists" / "partial").mkdir(parents=True, exist_ok=True)
            _run(["apt-get", *_apt_opts(cache), "update"], folder, log)
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            if kind == "pypi":
                base = ["pip", "download", "--no-deps", "--only-binary", ":all:", "-d", str(folder), "-q"]
                specs = [f"{n}=={v}" for n, v in chunk]
            elif kind == "deb":
                base = ["apt-get", "download", "-q"]
                specs = [f"{n}={v}" for n, v in chunk]
            elif kind == "npm":
                base = ["npm", "pack", "--silent", "--cache", "/tmp/loracode-npm-cache"]
                base += ["--pack-destination", str(folder)]
                specs = [f"{n}@{v}" for n, v in chunk]
            else:
                base = ["apt-get", *_apt_opts(cache), "source", "--download-only", "-q"]
                specs = [f"{n}={v}" for n, v in chunk]
            if kind == "pypi":
                base = [sys.executable, "-m", *base]
            if _run(base + specs, folder, log):
                continue
            for spec in specs:  # a batch failed: retry one by one to find the culprit
                if not _run(base + [spec], folder, log):
                    failures.append(f"{kind} {spec}")
            print(f"{kind}: {min(start + batch, len(todo))}/{len(todo)}", flush=True)
    (cache / f"failures-{'-'.join(sorted(only))}.txt").write_text(
        "\n".join(failures) + ("\n" if failures else "")
    )
    print(f"done; {len(failures)} failures (see failures-*.txt in {cache})")
    return len(failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, default=HERE / "sources.txt")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--only", default="pypi,deb,debsrc,npm")
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    download(args.sources, args.cache, set(args.only.split(",")), args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
