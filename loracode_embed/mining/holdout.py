"""Held-out upstream projects (``shared/HOLDOUT.md``): never mined, in any version or vendored copy.

Two checks, both conservative (a false positive only costs a few pairs):

* :func:`is_holdout_package` matches a registry package name (PyPI project, Debian binary or source
  package) against the holdout projects;
* :func:`holdout_path_hit` matches a file path inside any package, so a vendored copy of a holdout
  project (``setuptools/_vendor/more_itertools/...``, ``node_modules/lodash/...``) is dropped too.

Example:
    >>> is_holdout_package("pypi", "more-itertools")
    True
    >>> holdout_path_hit("site-packages/pip/_vendor/pyparsing/core.py")
    'pyparsing'
"""

from __future__ import annotations

import re

# Registry package names of the holdout projects, per source. Debian names are matched exactly and as a
# prefix followed by "-" (``ruby-rack-test`` is dropped along with ``ruby-rack``: conservative).
HOLDOUT_PACKAGES: dict[str, tuple[str, ...]] = {
    "pypi": (
        "more-itertools",
        "toolz",
        "cytoolz",
        "boltons",
        "sortedcontainers",
        "pyparsing",
        "marshmallow",
        "python-dateutil",
        "funcy",
    ),
    # npm names match exactly or as a prefix followed by "." (lodash.debounce is a lodash module)
    "npm": (
        "lodash",
        "lodash-es",
        "lodash-amd",
        "lodash-node",
        "mongodb",
        "mongodb-core",
        "stylus",
        "jszip",
        "commander",
        "ws",
        "express",
        "source-map",
        "source-map-js",
        "when",
        "axios",
    ),
    "debian": (
        # Python (Debian copies)
        "python3-more-itertools",
        "python3-toolz",
        "python3-boltons",
        "python3-sortedcontainers",
        "python3-pyparsing",
        "python3-marshmallow",
        "python3-dateutil",
        "python3-funcy",
        # Go
        "golang-github-spf13-cobra",
        "golang-github-gorilla-mux",
        "golang-github-miekg-dns",
        "golang-github-gin-gonic-gin",
        "golang-github-hashicorp-raft",
        "golang-github-hashicorp-memberlist",
        "golang-github-minio-minio-go",
        "golang-github-prometheus-client-golang",
        "golang-github-lib-pq",
        "golang-github-shopspring-decimal",
        # Ruby
        "ruby-rack",
        "ruby-i18n",
        "ruby-concurrent",
        "ruby-thor",
        "ruby-addressable",
        "ruby-sequel",
        "ruby-tzinfo",
        "ruby-mustermann",
        # PHP
        "php-symfony-console",
        "php-phpseclib",
        "php-phpseclib3",
        "php-doctrine-dbal",
        "php-nesbot-carbon",
        "php-htmlpurifier",
        "php-nrk-predis",
        "php-predis",
        "php-slim",
        "php-monolog",
        "php-brick-math",
        # JavaScript
        "node-lodash",
        "node-lodash-es",
        "node-lodash-packages",
        "node-mongodb",
        "node-stylus",
        "node-jszip",
        "node-commander",
        "node-ws",
        "node-express",
        "node-source-map",
        "node-when",
        "node-axios",
        # Java (Debian source and binary names; older major versions of the same upstream included)
        "commons-lang3",
        "libcommons-lang3-java",
        "libcommons-lang-java",
        "commons-io",
        "libcommons-io-java",
        "commons-math3",
        "commons-math",
        "libcommons-math3-java",
        "libcommons-math-java",
        "jsoup",
        "libjsoup-java",
        "jackson-core",
        "libjackson2-core-java",
        "jline3",
        "jline2",
        "jline",
        "libjline3-java",
        "libjline2-java",
        "libjline-java",
        "commons-csv",
        "libcommons-csv-java",
        "args4j",
        "libargs4j-java",
    ),
}

# Path fragments (between "/" boundaries) that identify a copy of a holdout project inside any package.
HOLDOUT_PATH_PATTERNS: tuple[tuple[str, str], ...] = (
    ("more_itertools", r"more_itertools"),
    ("toolz", r"c?toolz|tlz"),
    ("boltons", r"boltons"),
    ("sortedcontainers", r"sortedcontainers"),
    ("pyparsing", r"pyparsing(\.py)?"),
    ("marshmallow", r"marshmallow"),
    ("python-dateutil", r"dateutil"),
    ("funcy", r"funcy"),
    ("spf13/cobra", r"spf13/cobra"),
    ("gorilla/mux", r"gorilla/mux"),
    ("miekg/dns", r"miekg/dns"),
    ("gin-gonic/gin", r"gin-gonic/gin"),
    ("hashicorp/raft", r"hashicorp/raft"),
    ("hashicorp/memberlist", r"hashicorp/memberlist"),
    ("minio/minio-go", r"minio/minio-go(/v\d+)?"),
    ("prometheus/client_golang", r"prometheus/client_golang"),
    ("lib/pq", r"lib/pq"),
    ("shopspring/decimal", r"shopspring/decimal"),
    ("rack", r"rack(\.rb)?|rack-[\d.]+"),
    ("i18n", r"i18n(\.rb)?|i18n-[\d.]+"),
    ("concurrent-ruby", r"concurrent(\.rb)?|concurrent-ruby(-[\d.]+)?"),
    ("thor", r"thor(\.rb)?|thor-[\d.]+"),
    ("addressable", r"addressable(\.rb)?|addressable-[\d.]+"),
    ("sequel", r"sequel(\.rb)?|sequel-[\d.]+"),
    ("tzinfo", r"tzinfo(\.rb)?|tzinfo-[\d.]+"),
    ("mustermann", r"mustermann(\.rb)?|mustermann-[\d.]+"),
    ("symfony/console", r"Symfony/Component/Console|symfony/console"),
    ("phpseclib", r"phpseclib\d?"),
    ("doctrine/dbal", r"Doctrine/DBAL|doctrine/dbal"),
    ("nesbot/carbon", r"Carbon|nesbot/carbon"),
    ("htmlpurifier", r"HTMLPurifier(\.\w+)*|htmlpurifier"),
    ("predis", r"Predis|predis"),
    ("slim", r"Slim|slim/slim"),
    ("monolog", r"Monolog|monolog"),
    ("brick/math", r"Brick/Math|brick/math"),
    ("lodash", r"lodash([.\-][\w.\-]+)?"),
    ("mongodb", r"mongodb"),
    ("stylus", r"stylus"),
    ("jszip", r"jszip"),
    ("commander", r"commander"),
    ("ws", r"ws"),
    ("express", r"express"),
    ("source-map", r"source-map"),
    ("when", r"when"),
    ("axios", r"axios"),
    ("commons-lang3", r"org/apache/commons/lang3?"),
    ("commons-io", r"org/apache/commons/io"),
    ("commons-math3", r"org/apache/commons/math3?"),
    ("jsoup", r"org/jsoup"),
    ("jackson-core", r"com/fasterxml/jackson/core"),
    ("jline3", r"org/jline|jline"),
    ("commons-csv", r"org/apache/commons/csv"),
    ("args4j", r"org/kohsuke/args4j"),
)
_PATH_RE = [(name, re.compile(rf"(?:^|/)(?:{pattern})(?:/|$)")) for name, pattern in HOLDOUT_PATH_PATTERNS]


def is_holdout_package(source: str, name: str) -> bool:
    """Whether registry package ``name`` from ``source`` ("pypi", "npm" or "debian") is a holdout project.

    Example:
        >>> is_holdout_package("debian", "golang-github-spf13-cobra-dev")
        True
    """
    if source not in HOLDOUT_PACKAGES:
        raise ValueError(f"source must be one of {sorted(HOLDOUT_PACKAGES)}, got {source!r}")
    key = name.lower()
    if source == "pypi":
        key = re.sub(r"[-_.]+", "-", key)
        return key in HOLDOUT_PACKAGES["pypi"]
    if source == "npm":
        return any(key == held or key.startswith(held + ".") for held in HOLDOUT_PACKAGES["npm"])
    for held in HOLDOUT_PACKAGES["debian"]:
        if key == held or key.startswith(held + "-"):
            return True
    return False


def holdout_path_hit(path: str) -> str | None:
    """The holdout project whose copy ``path`` belongs to, or None.

    Example:
        >>> holdout_path_hit("usr/share/gocode/src/github.com/lib/pq/conn.go")
        'lib/pq'
    """
    norm = path.replace("\\", "/")
    for name, regex in _PATH_RE:
        if regex.search(norm):
            return name
    return None
