"""Decide per query whether it is natural language (task ``text2code``) or code (task ``code2code``).

A small logistic-regression classifier over hand-crafted lexical features: symbol densities (brackets,
semicolons, operators, dots, quotes), multi-character operators, keywords of many programming languages,
identifier styles (camelCase, snake_case), line structure and indentation, and the share of English
function words. Pure Python and the standard library only; well under a millisecond per query. The
weights live in ``query_type_weights.json`` next to this module (plain JSON, loaded lazily once) and are
produced by ``trainers/query_type/train_query_type.py``; accuracy and latency are in
``docs/query-type.md``.

The empty string (or whitespace only) is treated as natural language: ``code_probability("")`` is
``0.0`` and ``classify_query("")`` is ``"text2code"``.

Example:
    >>> from loracode_embed.query_type import classify_query, is_code
    >>> classify_query("how to convert a list to a dict in python")
    'text2code'
    >>> classify_query("def parse(s): return json.loads(s)")
    'code2code'
    >>> is_code("x.map(y => y*2)")
    True
    >>> classify_query("")
    'text2code'
"""

from __future__ import annotations

import json
import logging
import math
import operator
import re
import threading
from pathlib import Path

__all__ = [
    "FEATURE_NAMES",
    "classify_query",
    "code_probability",
    "extract_features",
    "is_code",
]

logger = logging.getLogger(__name__)

WEIGHTS_PATH = Path(__file__).with_name("query_type_weights.json")
WEIGHTS_FORMAT = "loracode-embed/query-type-logreg/1"

# Only the first MAX_CHARS characters are looked at: the decision is clear long before that, and it keeps
# the cost per query bounded for whole files pasted as queries.
MAX_CHARS = 1000

_NON_SPACE_RE = re.compile(r"\S")
_WORD_RE = re.compile(r"[A-Za-z_$@][A-Za-z0-9_]*")
_SNAKE_RE = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]")
_DIGIT_IN_WORD_RE = re.compile(r"[A-Za-z_][0-9]")
_PUNCT_TOKEN_RE = re.compile(r"(?<!\S)[()\[\]{};=<>+\-*/%&|^!~:.,'\"`?@#$\\]+(?!\S)")
_MULTI_OP_RE = re.compile(r"==|!=|<=|>=|\+=|-=|\*=|/=|&&|\|\||->|=>|::|:=|<<|>>|\+\+|--(?!\s)|\*\*|\?\?|\?\.")
_ASSIGN_RE = re.compile(r"[\w\]\)]\s*=\s*[^=\s]|[\w\]\)]\s*=\s*$", re.M)
_CALL_RE = re.compile(r"[A-Za-z0-9_]\s?\(")
_EMPTY_CALL_RE = re.compile(r"\(\s*\)")
_METHOD_CALL_RE = re.compile(r"[A-Za-z_\]\)]\s?\.\s?[A-Za-z_]\w*\s?\(")
_ATTR_RE = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*")
_STRING_RE = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")
_GENERIC_RE = re.compile(r"\w\s?<\s?[A-Z?]\w*(?:\s?,\s?\w+)*\s?>")
_COMMENT_RE = re.compile(r"//|/\*|\*/|^\s*#(?!\w*\s*[a-z])|<!--", re.M)
_DEF_RE = re.compile(
    r"\b(?:def|func|function|fn|sub|fun|proc)\s+[A-Za-z_]\w*\s?[(<]"
    r"|\b(?:public|private|protected|static|void|int|bool|boolean|string|String|override|virtual|final)"
    r"\s+[\w<>\[\],. ]*?[A-Za-z_]\w*\s?\("
    r"|^\s*(?:class|struct|interface|enum|impl|trait|module)\s+[A-Z]\w*",
    re.M,
)
_IMPORT_RE = re.compile(
    r"^\s*(?:import\s+[\w.*]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+)*\s*;?\s*$"
    r"|from\s+[\w.]+\s+import\s+[\w*(]|#\s*include\s*[<\"]|using\s+[\w.]+\s*;"
    r"|(?:require|require_once|include)\s*\(?\s*['\"]|package\s+\w+(?:\.\w+)+\s*;?\s*$|package\s+\w+\s*;|use\s+[\w:\\]+\s*;)",
    re.M,
)
_DOLLAR_RE = re.compile(r"\$\s?[A-Za-z_{(]")
_UPPER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER_BYTES = b"abcdefghijklmnopqrstuvwxyz"
_DIGIT_BYTES = b"0123456789"
_SPACE_BYTES = b" \t\n\r\x0b\x0c"
_CLOSE_LINE_END = frozenset(";{}):,")

# Keywords that ordinary English prose practically never uses, across many languages (case-sensitive).
_STRONG_KEYWORDS = frozenset(
    """def elif self cls None True False nil null NULL nullptr void func fn const var let lambda boolean bool
    int str len println printf sprintf fprintf sizeof typeof instanceof struct enum namespace impl pub mut
    elsif endif fi esac args kwargs argv argc isinstance super extends implements throws foreach async await
    yield finally except catch std cout cin endl fmt echo defer chan typedef readonly override virtual sealed
    val iota unsafe usize isize u8 u32 i32 i64 f32 f64 int32 int64 uint float64 float32 char long double
    byte bytes int8 uint8 nonlocal del assert elseif endforeach endwhile require_once include_once
    __init__ __name__ __main__ this nan undefined NaN argparse stdin stdout stderr malloc free
    goto unsigned volatile extern noexcept constexpr auto decltype template typename dynamic_cast
    Console WriteLine System Exception String Integer Object List Map HashMap ArrayList Override""".split()
)
# Keywords that are also common English words; weaker evidence of code.
_WEAK_KEYWORDS = frozenset(
    """if else for while return class import from new try in not and or is with as print public private
    static final package switch case break continue do end then function throw raise pass global default type
    interface abstract protected string object using get set when match loop select where out ref go range
    begin rescue ensure unless until module require include use export let of true false none""".split()
)
_LINE_START_KEYWORDS = frozenset(
    """def class import from return if for while elif else try except finally with public private protected
    static func function var let const package using namespace struct enum fn impl pub use require include
    switch case break continue throw raise yield print println echo do end begin module interface
    @Override @property template typedef int void char long double float bool boolean string String auto
    local export async await go defer select""".split()
)
# English function words and question words.
_STOPWORDS = frozenset(
    """a an the to of in on at by for from with without into onto over under about between through after
    before during how what why when where which who whom whose is are was were be been being do does did
    doing can could should would will shall may might must i me my we our you your it its they them their
    he she his her this that these those there here and or but not no nor so than too very just only also
    any all each every some such both either neither other another more most many much few one two
    using use get make way best vs versus difference between instead same whether if else then""".split()
)
_QUESTION_WORDS = frozenset(
    """how what why when where which who is are can could should does do did will would best difference
    getting""".split()
)

FEATURE_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "log_lines",
    "indented_line_frac",
    "line_end_code_frac",
    "line_start_kw_frac",
    "paren_density",
    "brace_density",
    "square_density",
    "semicolon_density",
    "operator_density",
    "dot_density",
    "colon_density",
    "comma_density",
    "quote_density",
    "digit_frac",
    "upper_frac",
    "alpha_frac",
    "space_frac",
    "punct_token_frac",
    "multi_op_rate",
    "has_assign",
    "call_rate",
    "has_empty_call",
    "method_call_rate",
    "attr_rate",
    "string_literal_rate",
    "has_generic",
    "has_comment_marker",
    "has_definition",
    "has_dollar_var",
    "has_import",
    "strong_kw_frac",
    "weak_kw_frac",
    "stopword_frac",
    "log_stopwords",
    "question_start",
    "ends_question",
    "ends_code_char",
    "starts_upper_word",
    "camel_frac",
    "snake_frac",
    "allcaps_frac",
    "word_digit_frac",
    "lower_word_frac",
    "single_letter_frac",
    "avg_word_len",
    "tokens_per_line",
)


def _check_text(text: object, name: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}: {text!r:.80}")
    return text


def _window(text: str) -> str:
    """The first ``MAX_CHARS`` characters after any leading whitespace, stripped ("" if blank)."""
    m = _NON_SPACE_RE.search(text)
    return "" if m is None else text[m.start() : m.start() + MAX_CHARS].strip()


def extract_features(text: str) -> list[float]:
    """Return the lexical feature vector of ``text`` (one float per name in :data:`FEATURE_NAMES`).

    Only the first ``MAX_CHARS`` characters after leading whitespace are used. The empty string gives
    all zeros.

    Example:
        >>> feats = dict(zip(FEATURE_NAMES, extract_features("int x = foo(y);")))
        >>> feats["semicolon_density"] > 0, feats["has_assign"], feats["ends_code_char"]
        (True, 1.0, 1.0)
    """
    _check_text(text)
    s = _window(text)
    n = len(s)
    if n == 0:
        return [0.0] * len(FEATURE_NAMES)
    inv_n = 1.0 / n

    raw_lines = s.splitlines()
    lines = [ln for ln in raw_lines if ln.strip()]
    n_lines = len(lines)
    indented = sum(1 for ln in lines[1:] if ln[:1] in (" ", "\t"))
    end_code = 0
    start_kw = 0
    for ln in lines:
        st = ln.strip()
        if st[-1] in _CLOSE_LINE_END:
            end_code += 1
        first = st.split(None, 1)[0]
        if first in _LINE_START_KEYWORDS or first[:1] in "}{@#" or first.startswith("//"):
            start_kw += 1

    words = _WORD_RE.findall(s)
    nw = len(words)
    inv_w = 1.0 / nw if nw else 0.0
    tokens = s.split()
    nt = len(tokens)

    c = s.count
    # Character classes counted on the ASCII bytes with bytes.translate (a C loop, much faster than regex).
    b = s.encode("ascii", "ignore")
    nb = len(b)
    n_upper = nb - len(b.translate(None, _UPPER_BYTES))
    n_alpha = n_upper + nb - len(b.translate(None, _LOWER_BYTES))
    n_digit = nb - len(b.translate(None, _DIGIT_BYTES))
    n_space = nb - len(b.translate(None, _SPACE_BYTES))
    # Non-ASCII characters count as letters, so that prose in other scripts reads as prose.
    n_alpha += n - nb

    # Word-level counts run as regular expressions over the space-joined words (fast in C).
    ws = " ".join(words)
    lws = ws.lower().split()
    strong = sum(map(_STRONG_KEYWORDS.__contains__, words))
    weak = sum(map(_WEAK_KEYWORDS.__contains__, lws))
    stop = sum(map(_STOPWORDS.__contains__, lws))
    n_lower_words = sum(map(str.islower, words))
    allcaps = sum(map(str.isupper, words))
    title = sum(map(str.istitle, words))
    # Mixed case that is neither lower, upper nor Title case: camelCase / PascalCase identifiers.
    camel = max(0, nw - n_lower_words - allcaps - title - words.count("_"))
    snake = len(_SNAKE_RE.findall(ws)) if "_" in ws else 0
    wdigit = len(_DIGIT_IN_WORD_RE.findall(ws))
    lower = n_lower_words
    lens = list(map(len, words))
    single = lens.count(1) - words.count("a") - words.count("A") - words.count("I")
    total_len = sum(lens)
    punct_tokens = len(_PUNCT_TOKEN_RE.findall(s))
    first_word = words[0] if words else ""
    last = s[-1]

    return [
        math.log1p(n),
        math.log1p(nw),
        math.log1p(n_lines),
        indented / n_lines,
        end_code / n_lines,
        start_kw / n_lines,
        (c("(") + c(")")) * inv_n,
        (c("{") + c("}")) * inv_n,
        (c("[") + c("]")) * inv_n,
        c(";") * inv_n,
        (c("=") + c("<") + c(">") + c("+") + c("*") + c("/") + c("%") + c("&") + c("|") + c("!")) * inv_n,
        c(".") * inv_n,
        c(":") * inv_n,
        c(",") * inv_n,
        (c('"') + c("'") + c("`")) * inv_n,
        n_digit * inv_n,
        n_upper / n_alpha if n_alpha else 0.0,
        n_alpha * inv_n,
        n_space * inv_n,
        punct_tokens / nt if nt else 0.0,
        min(len(_MULTI_OP_RE.findall(s)) / (nt or 1), 1.0),
        1.0 if _ASSIGN_RE.search(s) else 0.0,
        min(len(_CALL_RE.findall(s)) / (nw or 1), 1.0),
        1.0 if _EMPTY_CALL_RE.search(s) else 0.0,
        min(len(_METHOD_CALL_RE.findall(s)) / (nw or 1), 1.0),
        min(len(_ATTR_RE.findall(s)) / (nw or 1), 1.0),
        min(len(_STRING_RE.findall(s)) / (nw or 1), 1.0),
        1.0 if _GENERIC_RE.search(s) else 0.0,
        1.0 if _COMMENT_RE.search(s) else 0.0,
        1.0 if _DEF_RE.search(s) else 0.0,
        1.0 if "$" in s and _DOLLAR_RE.search(s) else 0.0,
        1.0 if _IMPORT_RE.search(s) else 0.0,
        strong * inv_w,
        weak * inv_w,
        stop * inv_w,
        math.log1p(stop),
        1.0 if first_word.lower() in _QUESTION_WORDS else 0.0,
        1.0 if last == "?" else 0.0,
        1.0 if last in ";{})]" else 0.0,
        1.0 if first_word[:1].isupper() and first_word[1:].islower() else 0.0,
        camel * inv_w,
        snake * inv_w,
        allcaps * inv_w,
        wdigit * inv_w,
        lower * inv_w,
        single * inv_w,
        (total_len * inv_w) / 10.0,
        math.log1p(nt / n_lines),
    ]


class _Model:
    """Standardised logistic regression loaded from the weights JSON."""

    def __init__(self, path: Path) -> None:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict) or data.get("format") != WEIGHTS_FORMAT:
            raise ValueError(f"{path}: not a query-type weights file (expected format {WEIGHTS_FORMAT!r})")
        names = tuple(data["features"])
        if names != FEATURE_NAMES:
            missing = sorted(set(FEATURE_NAMES) ^ set(names))
            raise ValueError(f"{path}: feature list does not match this code (differs in: {missing[:5]})")
        mean = [float(v) for v in data["mean"]]
        scale = [float(v) for v in data["scale"]]
        coef = [float(v) for v in data["coef"]]
        if not len(mean) == len(scale) == len(coef) == len(names):
            raise ValueError(f"{path}: mean/scale/coef lengths do not match the {len(names)} features")
        # Fold the standardisation into the linear weights: z = sum(w_i * (x_i - m_i) / s_i) + b.
        self.weights = [w / s for w, s in zip(coef, scale, strict=True)]
        shift = sum(w * m / s for w, m, s in zip(coef, mean, scale, strict=True))
        self.bias = float(data["intercept"]) - shift
        self.threshold = float(data.get("threshold", 0.5))

    def probability(self, features: list[float]) -> float:
        z = self.bias + sum(map(operator.mul, self.weights, features))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


_MODEL: _Model | None = None
_LOCK = threading.Lock()


def _model() -> _Model:
    global _MODEL
    if _MODEL is None:
        with _LOCK:
            if _MODEL is None:
                _MODEL = _Model(WEIGHTS_PATH)
                logger.debug("loaded query-type weights from %s", WEIGHTS_PATH)
    return _MODEL


def code_probability(text: str) -> float:
    """Return the estimated probability (0..1) that ``text`` is source code rather than natural language.

    The empty or whitespace-only string returns ``0.0``.

    Example:
        >>> code_probability("public int size() { return count; }") > 0.9
        True
        >>> code_probability("how to use json.loads") < 0.1
        True
        >>> code_probability("")
        0.0

    Raises:
        TypeError: if ``text`` is not a ``str``.
    """
    _check_text(text)
    if _NON_SPACE_RE.search(text) is None:
        return 0.0
    return _model().probability(extract_features(text))


def is_code(text: str) -> bool:
    """Return True if ``text`` looks like source code (see :func:`code_probability`).

    Example:
        >>> is_code("for i in range(10):\\n    print(i)")
        True
        >>> is_code("python convert list to dict")
        False

    Raises:
        TypeError: if ``text`` is not a ``str``.
    """
    _check_text(text)
    if _NON_SPACE_RE.search(text) is None:
        return False
    return code_probability(text) >= _model().threshold


def classify_query(text: str) -> str:
    """Return the retrieval task for a query: ``"code2code"`` for code, ``"text2code"`` otherwise.

    Empty or whitespace-only queries are ``"text2code"``.

    Example:
        >>> classify_query("sort a dictionary by value")
        'text2code'
        >>> classify_query("public static void main(String[] args) {}")
        'code2code'

    Raises:
        TypeError: if ``text`` is not a ``str``.
    """
    return "code2code" if is_code(text) else "text2code"
