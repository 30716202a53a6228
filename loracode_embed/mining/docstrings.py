"""Doc-comment text: strip comment markers, keep the first paragraph, drop tags and markup.

CodeSearchNet's rule: the query is the first paragraph of the documentation, before any tag block
(``@param``, ``:param``, ``Args:``, ``Returns``, ...). Pure Python.

Example:
    >>> first_paragraph(clean_comment('/**\\n * Adds two numbers.\\n *\\n * @param a first\\n */'))
    'Adds two numbers.'
"""

from __future__ import annotations

import re

_TAG_LINE = re.compile(
    r"""^\s*(?:
        [@\\](?:param|return|returns|throws|exception|see|since|author|version|deprecated|example|type|
             typedef|property|var|api|internal|override|inheritdoc|throw|raise|raises|yield|yields|todo|
             note|link|code|callback|template|psalm|phpstan|access|package|subpackage|license|copyright|
             group|covers|dataProvider|global|static|abstract|final|private|protected|public|brief|details|
             class|method|function|fn|memberof|name|namespace|module|async|emits|fires|listens|constructor)
        \b
      | @\w+
      | :(?:param|parameter|arg|argument|key|keyword|type|raises?|except|exception|returns?|rtype|
           var|ivar|cvar|vartype|yields?|meta|example|note|seealso|versionadded|versionchanged)\b
      | (?:Args|Arguments|Parameters|Params|Returns|Return|Raises|Yields|Yield|Examples?|Notes?|
           Attributes|Keyword\ Arguments|Other\ Parameters|See\ Also|References|Warns|Warnings?|Todo|
           Usage|Options)\s*:?\s*$
      | (?:=begin|=end)\b
      | >>>\s
      | \.\.\s+\w+::
      | -{3,}\s*$
      | ={3,}\s*$
      | \#\s*(?:Arguments|Examples?|Returns|Panics|Errors|Safety)\s*$
    )""",
    re.VERBOSE,
)
_INLINE_TAG = re.compile(r"\{@(?:link|linkplain|code|literal|value|see)\s+([^}]*)\}")
_XML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s+[^<>]*?)?/?>")
_PY_STRING = re.compile(r"^(?:[rRuUbBfF]{0,2})(\"\"\"|'''|\"|')(.*)\1$", re.DOTALL)


def clean_comment(raw: str) -> str:
    """Remove comment delimiters (``/** */``, ``//``, ``///``, ``#``, Python quotes, ``=begin``) and dedent.

    Example:
        >>> clean_comment('# Returns x.\\n# More.')
        'Returns x.\\nMore.'
    """
    text = raw.strip()
    m = _PY_STRING.match(text)
    if m:
        text = m.group(2)
    elif text.startswith("/*"):
        text = re.sub(r"^/\*+!?", "", text)
        text = re.sub(r"\*+/$", "", text)
        lines = [re.sub(r"^\s*\*(?!/) ?", "", line) for line in text.split("\n")]
        text = "\n".join(lines)
    elif text.startswith("=begin"):
        text = re.sub(r"^=begin[^\n]*\n?", "", text)
        text = re.sub(r"\n?=end[^\n]*$", "", text)
    else:
        lines = []
        for line in text.split("\n"):
            stripped = line.strip()
            stripped = re.sub(r"^(?:///?!?|#+!?|--|;+)\s?", "", stripped)
            lines.append(stripped)
        text = "\n".join(lines)
    lines = text.split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    cut = min(indents) if indents else 0
    out = [lines[0].strip()] + [line[cut:].rstrip() for line in lines[1:]]
    return "\n".join(out).strip("\n")


def first_paragraph(text: str) -> str:
    """The first paragraph of a cleaned doc comment, tags and markup removed, whitespace collapsed.

    Stops at the first blank line after some text, or at a tag line (``@param``, ``:returns:``,
    ``Args:``, a numpydoc underline, a doctest ``>>>``). Returns "" when nothing is left.

    Example:
        >>> first_paragraph('Compute the sum.\\n\\nLonger text.')
        'Compute the sum.'
        >>> first_paragraph('Parse a date.\\n:param s: text')
        'Parse a date.'
    """
    text = re.sub(r"<summary>|</summary>", "\n", text) if "<summary>" in text else text
    kept: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            if kept:
                break
            continue
        if _TAG_LINE.match(line):
            if kept and re.match(r"^\s*(?:-{3,}|={3,})\s*$", line):
                kept.pop()  # a numpydoc/reST section title ("Parameters" then "----")
            break
        kept.append(line.strip())
    para = " ".join(kept)
    para = _INLINE_TAG.sub(lambda m: m.group(1).strip(), para)
    para = _XML_TAG.sub(" ", para)
    para = re.sub(r"\s+", " ", para).strip()
    return para
