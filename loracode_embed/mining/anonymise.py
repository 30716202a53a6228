"""AdvTest-style anonymisation: rename the function and its parameters/locals, remove comments.

As in CodeXGLUE's AdvTest, the function name becomes ``func`` and every parameter or local variable name
becomes ``arg_0``, ``arg_1``, ... (first-occurrence order); member names, called functions and types keep
their names. Comments (and a Python docstring) are removed. A Code2Code test then asks a model to find
the original function among all test functions from the anonymised one, so identifier overlap no longer
solves it.

Example:
    >>> src = "def area(width, height):\\n    # product\\n    size = width * height\\n    return size"
    >>> print(anonymise(src, "python"))
    def func(arg_0, arg_1):
        arg_2 = arg_0 * arg_1
        return arg_2
"""

from __future__ import annotations

import re

from loracode_embed.mining.extract import SPECS, parse

_PARAM_LISTS = frozenset(
    {
        "parameters",
        "formal_parameters",
        "parameter_list",
        "method_parameters",
        "lambda_parameters",
        "block_parameters",
        "formal_parameter_list",
        "parameter_declaration",
        "formal_parameter",
        "catch_formal_parameter",
        "spread_parameter",
    }
)
_TYPE_FIELDS = frozenset({"type", "return_type", "result", "dimensions"})
_DECL_PARENTS = {
    "assignment": ("left",),
    "augmented_assignment": ("left",),
    "for_statement": ("left", "name"),
    "for_in_clause": ("left",),
    "as_pattern_target": (None,),
    "pattern_list": (None,),
    "short_var_declaration": ("left",),
    "var_spec": ("name",),
    "const_spec": ("name",),
    "range_clause": ("left",),
    "expression_list": (None,),
    "variable_declarator": ("name",),
    "enhanced_for_statement": ("name",),
    "catch_clause": ("parameter",),
    "for_in_statement": ("left",),
    "local_variable_declaration": (None,),
    "operator_assignment": ("left",),
    "left_assignment_list": (None,),
    "exception_variable": (None,),
    "declaration_expression": ("name",),
    "foreach_statement": ("left",),
}
_IDENT = frozenset({"identifier"})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})


def _field_of(node) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    for i, child in enumerate(parent.children):
        if child.id == node.id:
            return parent.field_name_for_child(i)
    return None


def _in_type(node, stop) -> bool:
    while node is not None and node.id != stop.id:
        if _field_of(node) in _TYPE_FIELDS or node.type.endswith("type") or node.type == "type_identifier":
            return True
        node = node.parent
    return False


def _declared(root, language: str) -> list:
    """Identifier nodes that declare a parameter or local variable."""
    out = []
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type not in _IDENT:
            continue
        anc, inside_params = node.parent, False
        while anc is not None and anc.id != root.id:
            if anc.type in _PARAM_LISTS:
                inside_params = True
                break
            if anc.type in ("block", "body_statement", "statement_block", "compound_statement"):
                break
            anc = anc.parent
        if inside_params and not _in_type(node, anc):
            if (
                node.parent.type not in ("default_parameter", "keyword_argument", "optional_parameter")
                or _field_of(node) == "name"
                or node.parent.children[0].id == node.id
            ):
                out.append(node)
            continue
        parent = node.parent
        fields = _DECL_PARENTS.get(parent.type)
        if fields is None and parent.type in (
            "pattern_list",
            "tuple_pattern",
            "list_pattern",
            "expression_list",
            "array_pattern",
            "object_pattern",
            "shorthand_property_identifier_pattern",
        ):
            grand = parent.parent
            fields = _DECL_PARENTS.get(grand.type) if grand is not None else None
            if fields is not None:
                out.append(node)
            continue
        if fields is None:
            continue
        if None in fields or _field_of(node) in fields:
            if (
                language == "go"
                and parent.type == "expression_list"
                and (
                    parent.parent is None
                    or parent.parent.type not in ("short_var_declaration", "range_clause")
                )
            ):
                continue
            out.append(node)
    return out


def anonymise(code: str, language: str, *, timeout_s: float = 5.0) -> str:
    """``code`` with the function renamed ``func``, parameters/locals ``arg_i``, and comments removed.

    Raises:
        ValueError: ``language`` is not one of the mined languages.
    """
    if language not in SPECS:
        raise ValueError(f"language must be one of {', '.join(SPECS)}; got {language!r}")
    if not isinstance(code, str):
        raise TypeError(f"code must be str, got {type(code).__name__}")
    source = code.encode("utf-8")
    # methods parse properly only inside a class: wrap them (the wrapper is cut off again below)
    prefix, suffix = b"", b""
    if language in ("java", "csharp"):
        prefix, suffix = b"class A_ {\n", b"\n}"
    elif language == "php" and not code.lstrip().startswith("<?php"):
        prefix, suffix = (
            (b"<?php\nclass A_ {\n", b"\n}")
            if not code.lstrip().startswith("function")
            else (b"<?php\n", b"")
        )
    tree = parse(prefix + source + suffix, language, timeout_s)
    root = tree.root_node
    off = len(prefix)
    edits: list[tuple[int, int, str]] = []
    names: dict[str, str] = {}
    fn = next(_iter(root, SPECS[language].functions), None)
    if fn is not None:
        name_node = fn.child_by_field_name("name")
        if name_node is not None:
            names[name_node.text.decode("utf-8", "replace")] = "func"
    for node in sorted(_declared(root, language), key=lambda n: n.start_byte):
        text = node.text.decode("utf-8", "replace")
        if text not in names and text not in ("self", "this", "cls", "_"):
            names[text] = f"arg_{sum(1 for v in names.values() if v != 'func')}"
    php_vars: dict[str, str] = {}
    for node in _iter(root, None):
        if node.type in _COMMENTS:
            edits.append((node.start_byte, node.end_byte, ""))
        elif language == "php" and node.type == "variable_name":
            text = node.text.decode("utf-8", "replace")
            if text != "$this":
                php_vars.setdefault(text, f"$arg_{len(php_vars)}")
                edits.append((node.start_byte, node.end_byte, php_vars[text]))
        elif node.type in ("identifier", "name") and node.text.decode("utf-8", "replace") in names:
            parent = node.parent
            if language == "php" and parent is not None and parent.type == "variable_name":
                continue
            edits.append((node.start_byte, node.end_byte, names[node.text.decode("utf-8", "replace")]))
    if language == "python" and fn is not None:
        body = fn.child_by_field_name("body")
        if body is not None and body.named_child_count:
            first = body.named_children[0]
            if (
                first.type == "expression_statement"
                and first.named_children
                and first.named_children[0].type == "string"
            ):
                edits.append((first.start_byte, first.end_byte, ""))
    data = bytearray(prefix + source + suffix)
    last = len(data) + 1
    for start, end, new in sorted(set(edits), key=lambda e: (-e[0], -e[1])):
        if end > last or start == end:
            continue  # nested in an edit already applied, or a zero-width (MISSING) node
        data[start:end] = new.encode("utf-8")
        last = start
    text = data[off : len(data) - len(suffix)].decode("utf-8", "replace")
    lines = [line.rstrip() for line in text.split("\n")]
    out = [line for line in lines if line.strip()]
    return re.sub(r"\n{2,}", "\n", "\n".join(out)).strip("\n")


def _iter(root, types):
    stack = [root]
    while stack:
        node = stack.pop()
        if types is None or node.type in types:
            yield node
        stack.extend(reversed(node.children))
