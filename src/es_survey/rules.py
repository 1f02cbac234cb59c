"""Classification rules as data: a small condition language and its rule files.

An analyst states how entities are classified (``active``, ``earning``,
``employing`` …) in a TOML file; this module reads that file, parses every
condition with its own tokenizer and recursive-descent parser (nothing is ever
evaluated as Python) and evaluates the conditions over a DataFrame whose columns
carry the canonical names of the codebook.

The condition language
----------------------
* literals: numbers (``3``, ``0.7``), strings (``"CIS"`` or ``'CIS'``), ``true``,
  ``false``; lists ``["CIS", "KIS"]`` after ``in``;
* names: codebook variables (``revenue_total``), flags defined *earlier* in the
  rule file (``earning``) and parameters of the ``[parameters]`` table
  (``ps_min_employees``);
* arithmetic ``+ - * /`` and unary ``-`` on numbers;
* comparisons ``== != < <= > >=``, ``x in [..]``, ``x not in [..]``
  (a list parameter may stand for the bracketed list);
* ``x is missing``, ``x is not missing`` (always true or false, never unknown);
* ``and``, ``or``, ``not`` and parentheses. Precedence, lowest first:
  ``or``, ``and``, ``not``, comparison, ``+ -``, ``* /``, unary ``-``.

Missing answers follow Kleene's three-valued logic: a comparison or arithmetic
involving a missing value is *unknown*; ``false and unknown`` is false,
``true or unknown`` is true, ``not unknown`` is unknown. A division by zero is
unknown. Types are checked when the file is loaded (a number is never compared
with a yes/no answer; a category is compared only with codes it can take).

A flag is a list of ``clauses`` tried in order; the first whose condition is true
decides the value (``true``, ``false``, or ``"unknown"`` for "this answer cannot
be used"); when none is true, ``otherwise`` decides. When a clause's condition
is unknown for a unit, the unit *might* have been decided there: the flag is
decided only if every clause that might have fired, and the one that did, give
the same value; otherwise the flag is *undetermined* and ``when_missing``
(``"unknown"``, ``"false"`` or ``"true"``, required for every flag) resolves it.

Rule file format (TOML)::

    [parameters]                 # named thresholds an analyst can change
    ps_min_employees = 3

    [[flags]]                    # in evaluation order
    name = "employing"
    label_pl = "Zatrudnia pracowników na umowę o pracę"
    label_en = "Employs staff on employment contracts"
    when_missing = "unknown"     # how an undetermined result resolves
    otherwise = false
    otherwise_reason = "no_uop_employees"
    applies_to = ["STOW", "FUND"]   # optional: entity_type codes
    not_applicable = "unknown"      # value for other types (default "unknown")

    [[flags.clauses]]
    when = "emp_uop > 0"
    value = true
    reason = "uop_employees"
    note = "free text"
    optional = true              # optional: without emp_uop in the data the clause is
                                 # unknown for every unit (default: the data are refused)

    [[checks]]                   # consistency checks (see es_survey.classify)
    name = "fte_above_headcount"
    label_pl = "..."
    label_en = "..."
    when = "emp_uop_fte > emp_uop"   # true = a contradiction
    flags = ["employing"]            # flags whose decision the report shows
    optional = true                  # optional: skipped when the data lack a variable

Data that lack variables the rules use are refused with one message listing every
missing variable by flag and check, and what to do: map the variable in the codebook
(a header of the file → the canonical name) or mark the clauses that use it optional.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from es_survey.errors import DataError

__all__ = [
    "Check",
    "Clause",
    "Flag",
    "RuleSet",
    "as_ruleset",
    "blank_data",
    "evaluate",
    "load_rules",
]

Resolution = Literal["unknown", "false", "true"]
_RESOLUTIONS = ("unknown", "false", "true")
_KEYWORDS = {"and", "or", "not", "in", "is", "missing", "true", "false"}
_KIND_WORDS = {"num": "a number", "bool": "a yes/no value", "str": "a text/code", "list": "a list"}
_CODEBOOK_KIND = {
    "bool": "bool",
    "integer": "num",
    "number": "num",
    "year": "num",
    "category": "str",
    "text": "str",
    "id": "str",
}


# --------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class _Token:
    kind: str  # num, str, name, kw, op, eof
    text: str
    value: Any
    line: int
    col: int


class _RuleSyntaxError(Exception):
    """Raised inside the parser; turned into a DataError with file and rule."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r]+)
  | (?P<nl>\n)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>"[^"\n]*"|'[^'\n]*')
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)


def _tokenize(text: str) -> list[_Token]:
    """Split an expression into tokens, each with its 1-based line and column."""
    tokens: list[_Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        col = pos - line_start + 1
        if match is None:
            char = text[pos]
            if char in "\"'":
                raise _RuleSyntaxError(line, col, "unterminated string: expected a closing quote")
            if char == "=":
                raise _RuleSyntaxError(line, col, "unexpected '=': expected '==' to compare")
            raise _RuleSyntaxError(
                line,
                col,
                f"unexpected character {char!r}: expected a name, number, string or operator",
            )
        group = match.lastgroup
        chunk = match.group()
        if group == "nl":
            line += 1
            line_start = match.end()
        elif group == "num":
            tokens.append(_Token("num", chunk, float(chunk), line, col))
        elif group == "name":
            kind = "kw" if chunk in _KEYWORDS else "name"
            tokens.append(_Token(kind, chunk, chunk, line, col))
        elif group == "str":
            tokens.append(_Token("str", chunk, chunk[1:-1], line, col))
        elif group == "op":
            tokens.append(_Token("op", chunk, chunk, line, col))
        pos = match.end()
    tokens.append(_Token("eof", "end of expression", None, line, pos - line_start + 1))
    return tokens


# --------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class _Node:
    line: int
    col: int


@dataclass(frozen=True)
class _Literal(_Node):
    value: Any  # float, str or bool


@dataclass(frozen=True)
class _Name(_Node):
    name: str


@dataclass(frozen=True)
class _Unary(_Node):
    op: str  # "not" or "-"
    operand: _Node


@dataclass(frozen=True)
class _Binary(_Node):
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _In(_Node):
    operand: _Node
    items: tuple[_Literal, ...] | None  # literal list, or None when ``param`` names one
    param: _Name | None
    negate: bool


@dataclass(frozen=True)
class _IsMissing(_Node):
    operand: _Node
    negate: bool


MAX_CONDITION_CHARS = 10_000
"""Longest condition accepted (characters)."""
MAX_NESTING = 40
"""Deepest nesting of parentheses, ``not`` and unary ``-`` accepted in a condition."""
MAX_DEPTH = 200
"""Deepest syntax tree accepted: a chain of ``or``/``and`` of more terms is refused
(write ``x in [1, 2, 3]`` instead of ``x == 1 or x == 2 or x == 3``)."""


def _tree_depth(root: _Node) -> int:
    """Depth of a syntax tree, computed without recursion."""
    deepest = 0
    stack: list[tuple[_Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in (getattr(node, name, None) for name in ("left", "right", "operand")):
            if isinstance(child, _Node):
                stack.append((child, depth + 1))
    return deepest


class _Parser:
    """Recursive-descent parser of the condition language.

    Its recursion is bounded: a condition longer than :data:`MAX_CONDITION_CHARS`,
    nested deeper than :data:`MAX_NESTING` or whose tree is deeper than
    :data:`MAX_DEPTH` is a syntax error that says so (never a ``RecursionError``).
    """

    _COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")

    def __init__(self, text: str) -> None:
        if len(text) > MAX_CONDITION_CHARS:
            raise _RuleSyntaxError(
                1,
                1,
                f"the condition has {len(text):,} characters; at most {MAX_CONDITION_CHARS:,} "
                f"are accepted: put long lists in [parameters] and write 'x in name'",
            )
        self.tokens = _tokenize(text)
        self.i = 0
        self.nesting = 0

    def _nest(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            tok = self.tok
            raise _RuleSyntaxError(
                tok.line,
                tok.col,
                f"the condition nests parentheses, 'not' or '-' more than {MAX_NESTING} "
                f"levels deep; simplify it or split it into several flags",
            )

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def _advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _is(self, kind: str, text: str) -> bool:
        return self.tok.kind == kind and self.tok.text == text

    def _fail(self, expected: str) -> _RuleSyntaxError:
        tok = self.tok
        found = "end of expression" if tok.kind == "eof" else repr(tok.text)
        return _RuleSyntaxError(tok.line, tok.col, f"expected {expected}, found {found}")

    def parse(self) -> _Node:
        if self.tok.kind == "eof":
            raise self._fail("a condition")
        node = self._or()
        if self.tok.kind != "eof":
            raise self._fail("'and', 'or', an operator or the end of the expression")
        if _tree_depth(node) > MAX_DEPTH:
            raise _RuleSyntaxError(
                1,
                1,
                f"the condition chains more than {MAX_DEPTH} operators; write a list test "
                f"('x in [1, 2, 3]') instead of many 'or' comparisons, or split it into "
                f"several flags",
            )
        return node

    def _or(self) -> _Node:
        node = self._and()
        while self._is("kw", "or"):
            tok = self._advance()
            node = _Binary(tok.line, tok.col, "or", node, self._and())
        return node

    def _and(self) -> _Node:
        node = self._not()
        while self._is("kw", "and"):
            tok = self._advance()
            node = _Binary(tok.line, tok.col, "and", node, self._not())
        return node

    def _not(self) -> _Node:
        if self._is("kw", "not"):
            tok = self._advance()
            self._nest()
            node = _Unary(tok.line, tok.col, "not", self._not())
            self.nesting -= 1
            return node
        return self._comparison()

    def _comparison(self) -> _Node:
        left = self._additive()
        tok = self.tok
        if tok.kind == "op" and tok.text in self._COMPARISONS:
            self._advance()
            return _Binary(tok.line, tok.col, tok.text, left, self._additive())
        if self._is("kw", "in"):
            self._advance()
            return self._in_list(tok, left, negate=False)
        if self._is("kw", "not"):
            self._advance()
            if not self._is("kw", "in"):
                raise self._fail("'in' after 'not'")
            self._advance()
            return self._in_list(tok, left, negate=True)
        if self._is("kw", "is"):
            self._advance()
            negate = False
            if self._is("kw", "not"):
                self._advance()
                negate = True
            if not self._is("kw", "missing"):
                raise self._fail("'missing' after 'is'" if not negate else "'missing'")
            self._advance()
            return _IsMissing(tok.line, tok.col, left, negate)
        return left

    def _in_list(self, at: _Token, operand: _Node, negate: bool) -> _Node:
        if self.tok.kind == "name":
            name_tok = self._advance()
            param = _Name(name_tok.line, name_tok.col, name_tok.text)
            return _In(at.line, at.col, operand, None, param, negate)
        if not self._is("op", "["):
            raise self._fail("'[' opening a list, or the name of a list parameter")
        self._advance()
        items: list[_Literal] = []
        while True:
            items.append(self._list_literal())
            if self._is("op", ","):
                self._advance()
                if self._is("op", "]"):  # trailing comma
                    break
                continue
            if self._is("op", "]"):
                break
            raise self._fail("',' or ']' in the list")
        self._advance()
        return _In(at.line, at.col, operand, tuple(items), None, negate)

    def _list_literal(self) -> _Literal:
        tok = self.tok
        sign = 1.0
        if self._is("op", "-"):
            self._advance()
            sign = -1.0
            if self.tok.kind != "num":
                raise self._fail("a number after '-' in the list")
        tok2 = self.tok
        if tok2.kind == "num":
            self._advance()
            return _Literal(tok.line, tok.col, sign * tok2.value)
        if tok2.kind == "str":
            self._advance()
            return _Literal(tok.line, tok.col, tok2.value)
        raise self._fail("a number or a string in the list")

    def _additive(self) -> _Node:
        node = self._term()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            tok = self._advance()
            node = _Binary(tok.line, tok.col, tok.text, node, self._term())
        return node

    def _term(self) -> _Node:
        node = self._unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            tok = self._advance()
            node = _Binary(tok.line, tok.col, tok.text, node, self._unary())
        return node

    def _unary(self) -> _Node:
        if self._is("op", "-"):
            tok = self._advance()
            self._nest()
            node = _Unary(tok.line, tok.col, "-", self._unary())
            self.nesting -= 1
            return node
        return self._primary()

    def _primary(self) -> _Node:
        tok = self.tok
        if tok.kind == "num":
            self._advance()
            return _Literal(tok.line, tok.col, tok.value)
        if tok.kind == "str":
            self._advance()
            return _Literal(tok.line, tok.col, tok.value)
        if tok.kind == "kw" and tok.text in ("true", "false"):
            self._advance()
            return _Literal(tok.line, tok.col, tok.text == "true")
        if tok.kind == "name":
            self._advance()
            return _Name(tok.line, tok.col, tok.text)
        if self._is("op", "("):
            self._advance()
            self._nest()
            node = self._or()
            if not self._is("op", ")"):
                raise self._fail("')' closing the parenthesis")
            self._advance()
            self.nesting -= 1
            return node
        raise self._fail("a name, number, string, true/false, '-', 'not' or '('")


# --------------------------------------------------------------------------- names and types
@dataclass(frozen=True)
class _Symbol:
    role: str  # "column", "flag" or "param"
    kind: str  # num, bool, str, list
    codes: frozenset[str] | None = None  # allowed codes of a category column
    value: Any = None  # a parameter's value
    dtype: Any = None  # pandas dtype of a codebook column


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float | int):
        return "num"
    return "str"


class _Checker:
    """Type-check a syntax tree against the names in scope; collect names used."""

    def __init__(self, scope: Mapping[str, _Symbol]) -> None:
        self.scope = scope
        self.used: list[str] = []  # columns and flags, in order of first use

    def check(self, node: _Node) -> str:
        if isinstance(node, _Literal):
            return _literal_kind(node.value)
        if isinstance(node, _Name):
            symbol = self.scope.get(node.name)
            if symbol is None:
                raise _RuleSyntaxError(
                    node.line,
                    node.col,
                    f"unknown name {node.name!r}: expected a codebook variable, a flag "
                    "defined earlier in the file, or a parameter",
                )
            if symbol.kind == "list":
                raise _RuleSyntaxError(
                    node.line, node.col, f"list parameter {node.name!r} can only follow 'in'"
                )
            if symbol.role != "param" and node.name not in self.used:
                self.used.append(node.name)
            return symbol.kind
        if isinstance(node, _Unary):
            kind = self.check(node.operand)
            want = "bool" if node.op == "not" else "num"
            if kind != want:
                raise _RuleSyntaxError(
                    node.line,
                    node.col,
                    f"'{node.op}' expects {_KIND_WORDS[want]}, found {_KIND_WORDS[kind]}",
                )
            return want
        if isinstance(node, _IsMissing):
            self.check(node.operand)
            return "bool"
        if isinstance(node, _In):
            return self._check_in(node)
        if isinstance(node, _Binary):
            return self._check_binary(node)
        raise TypeError(f"unexpected node {node!r}")  # pragma: no cover - parser guarantees

    def _codes_of(self, node: _Node) -> frozenset[str] | None:
        if isinstance(node, _Name):
            symbol = self.scope.get(node.name)
            if symbol is not None and symbol.role == "column":
                return symbol.codes
        return None

    def _check_code(self, codes: frozenset[str] | None, lit: _Node, var: _Node) -> None:
        if codes and isinstance(lit, _Literal) and isinstance(lit.value, str):
            if lit.value not in codes:
                name = var.name if isinstance(var, _Name) else "the variable"
                raise _RuleSyntaxError(
                    lit.line,
                    lit.col,
                    f"{lit.value!r} is not a code of {name}: expected one of "
                    + ", ".join(sorted(codes)),
                )

    def _check_in(self, node: _In) -> str:
        kind = self.check(node.operand)
        if node.param is not None:
            symbol = self.scope.get(node.param.name)
            if symbol is None or symbol.role != "param" or symbol.kind != "list":
                raise _RuleSyntaxError(
                    node.param.line,
                    node.param.col,
                    f"expected a list parameter after 'in', found {node.param.name!r}",
                )
            items = tuple(_Literal(node.param.line, node.param.col, v) for v in symbol.value)
        else:
            items = node.items or ()
        if kind == "bool":
            raise _RuleSyntaxError(node.line, node.col, "'in' expects a number or a text/code")
        codes = self._codes_of(node.operand)
        for item in items:
            item_kind = _literal_kind(item.value)
            if item_kind != kind:
                raise _RuleSyntaxError(
                    item.line,
                    item.col,
                    f"list item {item.value!r} is {_KIND_WORDS[item_kind]}, but the value "
                    f"tested with 'in' is {_KIND_WORDS[kind]}",
                )
            self._check_code(codes, item, node.operand)
        return "bool"

    def _check_binary(self, node: _Binary) -> str:
        left = self.check(node.left)
        right = self.check(node.right)
        op = node.op
        if op in ("and", "or"):
            for side, kind in ((node.left, left), (node.right, right)):
                if kind != "bool":
                    raise _RuleSyntaxError(
                        side.line,
                        side.col,
                        f"'{op}' expects yes/no conditions, found {_KIND_WORDS[kind]}",
                    )
            return "bool"
        if op in ("+", "-", "*", "/"):
            for side, kind in ((node.left, left), (node.right, right)):
                if kind != "num":
                    raise _RuleSyntaxError(
                        side.line,
                        side.col,
                        f"'{op}' expects numbers, found {_KIND_WORDS[kind]}",
                    )
            return "num"
        if op in ("<", "<=", ">", ">="):
            if left != "num" or right != "num":
                raise _RuleSyntaxError(
                    node.line,
                    node.col,
                    f"'{op}' compares numbers, found {_KIND_WORDS[left]} and {_KIND_WORDS[right]}",
                )
            return "bool"
        # == and !=
        if left != right:
            raise _RuleSyntaxError(
                node.line,
                node.col,
                f"'{op}' compares values of one kind, found {_KIND_WORDS[left]} and "
                f"{_KIND_WORDS[right]}",
            )
        self._check_code(self._codes_of(node.left), node.right, node.left)
        self._check_code(self._codes_of(node.right), node.left, node.right)
        return "bool"


# --------------------------------------------------------------------------- public rule objects
@dataclass(frozen=True)
class Clause:
    """One ordered clause of a flag: if ``when`` is true, the flag takes ``value``.

    Attributes
    ----------
    when : str
        The condition, in the rule language.
    value : bool or None
        The value given when the condition is true; ``None`` means "unknown"
        (the answers cannot be used to decide).
    reason : str
        Short identifier written to the ``<flag>_reason`` column.
    note : str
        Free-text explanation for readers of the rule file.
    optional : bool
        ``optional = true`` in the rule file: when the data lack a variable the
        clause uses, the clause is unknown for every unit (and Kleene's logic carries
        on) instead of the data being refused.

    Examples
    --------
    >>> clause = load_rules().flags[0].clauses[0]
    >>> clause.when, clause.value, clause.reason
    ('in_liquidation', False, 'in_liquidation')
    """

    when: str
    value: bool | None
    reason: str
    note: str = ""
    tree: _Node = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    names: tuple[str, ...] = field(repr=False, compare=False, default=())
    optional: bool = False


@dataclass(frozen=True)
class Flag:
    """A classification flag: ordered clauses, a default and a missing-value policy.

    Attributes
    ----------
    name, label_pl, label_en : str
        Column name of the flag and its Polish and English labels.
    clauses : tuple of Clause
        Tried in order; the first whose condition is true decides.
    otherwise : bool
        Value when no clause is true.
    otherwise_reason : str
        Reason written when ``otherwise`` decides.
    when_missing : {"unknown", "false", "true"}
        How an undetermined result (missing answers) resolves.
    applies_to : tuple of str or None
        ``entity_type`` codes the flag is evaluated for (``None`` = all).
    not_applicable : {"unknown", "false", "true"}
        Value for the entity types outside ``applies_to``.
    note : str
        Free-text explanation.

    Examples
    --------
    >>> flag = load_rules().flags[-1]
    >>> flag.name, flag.applies_to, flag.otherwise, flag.when_missing
    ('zaz_rule', ('ZAZ',), True, 'unknown')
    """

    name: str
    label_pl: str
    label_en: str
    clauses: tuple[Clause, ...]
    otherwise: bool
    otherwise_reason: str
    when_missing: Resolution
    applies_to: tuple[str, ...] | None = None
    not_applicable: Resolution = "unknown"
    note: str = ""


@dataclass(frozen=True)
class Check:
    """A consistency check: ``when`` true marks a contradiction between answers.

    Attributes
    ----------
    name, label_pl, label_en : str
        Identifier and labels.
    when : str
        The condition, in the rule language; true means "contradiction".
    variables : tuple of str
        Variables shown in the report (default: those the condition uses).
    flags : tuple of str
        Flags whose decision the report shows next to the contradiction.
    note : str
        Free-text explanation.
    optional : bool
        Skip the check (rather than refuse the data) when the data lack a variable
        it uses.

    Examples
    --------
    >>> check = load_rules().checks[2]
    >>> check.name, check.when, check.flags
    ('fte_above_headcount', 'emp_uop_fte > emp_uop', ('employing',))
    """

    name: str
    label_pl: str
    label_en: str
    when: str
    variables: tuple[str, ...]
    flags: tuple[str, ...] = ()
    note: str = ""
    tree: _Node = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    names: tuple[str, ...] = field(repr=False, compare=False, default=())
    optional: bool = False


@dataclass(frozen=True)
class RuleSet:
    """A loaded, checked rule file: parameters, flags in order, consistency checks.

    Build it with :func:`load_rules`; it is immutable.

    Attributes
    ----------
    source : str
        File the rules came from (used in error messages).
    parameters : dict
        Named thresholds and code lists of the ``[parameters]`` table.
    flags : tuple of Flag
        In evaluation order.
    checks : tuple of Check
        Consistency checks.
    variables : tuple of str
        Codebook variables the flags and checks use (the columns data must have).

    Examples
    --------
    >>> rules = load_rules()
    >>> [f.name for f in rules.flags][:3]
    ['active', 'earning', 'employing']
    """

    source: str
    parameters: Mapping[str, Any]
    flags: tuple[Flag, ...]
    checks: tuple[Check, ...]
    variables: tuple[str, ...]
    scope: Mapping[str, _Symbol] = field(repr=False, compare=False, default_factory=dict)

    @property
    def flag_names(self) -> list[str]:
        """Names of the flags, in evaluation order."""
        return [f.name for f in self.flags]

    def to_frame(self) -> pd.DataFrame:
        """Show the rules as a table an analyst can read (and a report can print).

        Returns
        -------
        DataFrame
            One row per clause, then one ``otherwise`` row per flag, in
            evaluation order. Columns: ``flag``, ``step`` (1, 2, … or
            ``"otherwise"``), ``when`` (condition, whitespace collapsed),
            ``value`` (``"true"``, ``"false"`` or ``"unknown"``), ``reason``,
            ``when_missing``, ``applies_to`` (comma-separated types, or ``"all"``),
            ``note``.

        Examples
        --------
        >>> table = load_rules().to_frame()
        >>> rows = table.loc[table["flag"] == "employing", ["step", "when", "value", "reason"]]
        >>> print(rows.iloc[-2:].to_string(index=False))
             step        when value           reason
                3 emp_uop > 0  true    uop_employees
        otherwise             false no_uop_employees
        """
        words = {True: "true", False: "false", None: "unknown"}
        rows = []
        for f in self.flags:
            applies = ", ".join(f.applies_to) if f.applies_to else "all"
            for k, c in enumerate(f.clauses, start=1):
                rows.append(
                    (
                        f.name,
                        str(k),
                        " ".join(c.when.split()),
                        words[c.value],
                        c.reason,
                        f.when_missing,
                        applies,
                        c.note,
                    )
                )
            rows.append(
                (
                    f.name,
                    "otherwise",
                    "",
                    words[f.otherwise],
                    f.otherwise_reason,
                    f.when_missing,
                    applies,
                    "",
                )
            )
        columns = ["flag", "step", "when", "value", "reason", "when_missing", "applies_to", "note"]
        return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- loading
def _default_rules_path() -> Any:
    return files("es_survey") / "data" / "rules.toml"


def _codebook_scope(codebook: str | Path | None) -> dict[str, _Symbol]:
    """Canonical variables of the codebook with their kinds and category codes."""
    if codebook is None:
        text = (files("es_survey") / "data" / "codebook.toml").read_text(encoding="utf-8")
        where = "codebook.toml (packaged)"
    else:
        try:
            text = Path(codebook).read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"{codebook}: cannot read the codebook ({exc})") from exc
        where = str(codebook)
    try:
        book = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{where}: not valid TOML ({exc})") from exc
    answers = book.get("answers", {})
    scope: dict[str, _Symbol] = {}
    for var in book.get("variables", []):
        kind = _CODEBOOK_KIND.get(var.get("type", ""))
        if kind is None:
            raise DataError(
                f"{where}: variable {var.get('name')!r} has type {var.get('type')!r}; "
                f"expected one of {', '.join(_CODEBOOK_KIND)}"
            )
        codes = None
        dtype: Any = {
            "bool": "boolean",
            "integer": "Int64",
            "number": "Float64",
            "year": "Int64",
        }.get(var["type"], "string")
        if var.get("type") == "category" and var.get("answers") in answers:
            codes = frozenset(str(v) for v in answers[var["answers"]].values())
            dtype = pd.CategoricalDtype(sorted(codes))
        scope[var["name"]] = _Symbol("column", kind, codes, None, dtype)
    return scope


def _anchor(source: str | None, name: str) -> int:
    """Offset just after ``name = "<name>"`` in the rule file (0 if not found)."""
    if not source:
        return 0
    found = re.search(rf"""^\s*name\s*=\s*["']{re.escape(name)}["']""", source, re.MULTILINE)
    return found.end() if found else 0


def _file_line(source: str | None, start: int, expr: str) -> tuple[int | None, int]:
    """File line where ``expr`` first appears after offset ``start``, and the next offset."""
    idx = source.find(expr, start) if source and expr else -1
    if idx < 0:
        return None, start
    return source.count("\n", 0, idx) + 1, idx + len(expr)  # type: ignore[union-attr]


def _parse_in_context(text: Any, where: str, first_line: int | None = None) -> _Node:
    if not isinstance(text, str):
        raise DataError(f"{where}: expected the condition as a string, found {text!r}")
    try:
        return _Parser(text).parse()
    except _RuleSyntaxError as exc:
        raise _located(exc, text, where, first_line) from None


def _located(
    exc: _RuleSyntaxError, text: str, where: str, first_line: int | None = None
) -> DataError:
    lines = text.split("\n")
    shown = lines[exc.line - 1] if 0 < exc.line <= len(lines) else ""
    caret = " " * (exc.col - 1) + "^"
    in_file = f" [file line {first_line + exc.line - 1}]" if first_line else ""
    return DataError(
        f"{where}: line {exc.line}, column {exc.col}: {exc.message}{in_file}"
        f"\n    {shown}\n    {caret}"
    )


def _typed(
    tree: _Node,
    text: str,
    scope: Mapping[str, _Symbol],
    where: str,
    first_line: int | None = None,
) -> list[str]:
    """Type-check ``tree`` as a yes/no condition; return the columns/flags it uses."""
    checker = _Checker(scope)
    try:
        kind = checker.check(tree)
    except _RuleSyntaxError as exc:
        raise _located(exc, text, where, first_line) from None
    if kind != "bool":
        raise _located(
            _RuleSyntaxError(
                tree.line, tree.col, f"expected a yes/no condition, found {_KIND_WORDS[kind]}"
            ),
            text,
            where,
            first_line,
        )
    return checker.used


def _require(table: Mapping[str, Any], key: str, types: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise DataError(f"{where}: missing required field {key!r}")
    value = table[key]
    if not isinstance(value, types):
        raise DataError(f"{where}: field {key!r} has value {value!r} of the wrong type")
    return value


def _unknown_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        near = difflib.get_close_matches(extra[0], sorted(allowed), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise DataError(
            f"{where}: unknown field(s) {', '.join(map(repr, extra))}{hint}; expected only "
            + ", ".join(sorted(allowed))
        )


def _resolution(table: Mapping[str, Any], key: str, default: str | None, where: str) -> Resolution:
    if key not in table and default is not None:
        return default  # type: ignore[return-value]
    value = _require(table, key, str, where)
    if value not in _RESOLUTIONS:
        raise DataError(f'{where}: {key} = {value!r}; expected one of "unknown", "false", "true"')
    return value


_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_rules(source: str | Path | None = None, *, codebook: str | Path | None = None) -> RuleSet:
    """Read and check a rule file.

    Every condition is tokenized, parsed and type-checked against the codebook's
    variables, the parameters and the flags defined before it.

    Parameters
    ----------
    source : str or Path, optional
        A TOML rule file. ``None`` loads the packaged default (identical to
        ``data/raw/rules.toml``).
    codebook : str or Path, optional
        Codebook whose variable names and types the rules refer to; ``None`` uses
        the packaged codebook.

    Returns
    -------
    RuleSet

    Raises
    ------
    DataError
        If the file cannot be read, is not TOML, or a flag or check is malformed;
        the message names the file, the flag (or check) and clause, the line and
        column inside the condition, and what was expected there.

    Examples
    --------
    >>> rules = load_rules()
    >>> rules.parameters["ps_min_half_fte_employees"]
    3
    >>> rules.flags[2].clauses[-1].when
    'emp_uop > 0'
    """
    if source is None:
        text = _default_rules_path().read_text(encoding="utf-8")
        name = "rules.toml (packaged default)"
    else:
        name = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"{name}: cannot read the rule file ({exc})") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{name}: not valid TOML ({exc})") from exc
    _unknown_keys(doc, {"meta", "parameters", "flags", "checks"}, name)

    scope: dict[str, _Symbol] = dict(_codebook_scope(codebook))
    params = _read_parameters(doc.get("parameters", {}), scope, name)
    flags_raw = doc.get("flags", [])
    if not isinstance(flags_raw, list) or not flags_raw:
        raise DataError(f"{name}: expected at least one [[flags]] table")
    used_columns: list[str] = []
    flags = []
    for i, raw in enumerate(flags_raw, start=1):
        flag = _read_flag(raw, i, scope, name, used_columns, text)
        flags.append(flag)
        scope[flag.name] = _Symbol("flag", "bool")
    checks = []
    seen_checks: set[str] = set()
    for i, raw in enumerate(doc.get("checks", []), start=1):
        check = _read_check(raw, i, scope, name, used_columns, text)
        if check.name in seen_checks:
            raise DataError(f"{name}: check {check.name!r} is defined twice")
        seen_checks.add(check.name)
        checks.append(check)
    columns = tuple(c for c in used_columns if scope[c].role == "column")
    return RuleSet(name, params, tuple(flags), tuple(checks), columns, scope)


def _read_parameters(table: Any, scope: dict[str, _Symbol], name: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise DataError(f"{name}: [parameters] must be a table of name = value")
    params: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{name}: parameter {key!r}"
        if not _IDENT_RE.match(key) or key in _KEYWORDS:
            raise DataError(f"{where}: expected a name of letters, digits and '_'")
        if key in scope:
            raise DataError(f"{where}: clashes with the codebook variable of the same name")
        if isinstance(value, bool):
            kind = "bool"
        elif isinstance(value, int | float):
            if not math.isfinite(value):
                raise DataError(f"{where}: value {value!r}; a threshold must be a finite number")
            kind = "num"
            value = float(value) if isinstance(value, float) else value
        elif isinstance(value, str):
            kind = "str"
        elif (
            isinstance(value, list)
            and value
            and (
                all(isinstance(v, str) for v in value)
                or all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in value
                )
            )
        ):
            kind = "list"
        else:
            raise DataError(
                f"{where}: value {value!r}; expected a number, a string, true/false, or a "
                "non-empty list of strings or of numbers"
            )
        params[key] = value
        scope[key] = _Symbol("param", kind, None, value)
    return params


def _read_flag(
    raw: Any,
    i: int,
    scope: dict[str, _Symbol],
    name: str,
    used_columns: list[str],
    source: str | None = None,
) -> Flag:
    where = f"{name}: flag #{i}"
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected a table")
    fname = _require(raw, "name", str, where)
    where = f"{name}: flag {fname!r}"
    if not _IDENT_RE.match(fname) or fname in _KEYWORDS:
        raise DataError(f"{where}: the name must be letters, digits and '_'")
    if fname in scope:
        raise DataError(
            f"{where}: the name is already used by a {scope[fname].role}; choose another"
        )
    _unknown_keys(
        raw,
        {
            "name",
            "label_pl",
            "label_en",
            "clauses",
            "otherwise",
            "otherwise_reason",
            "when_missing",
            "applies_to",
            "not_applicable",
            "note",
        },
        where,
    )
    label_pl = _require(raw, "label_pl", str, where)
    label_en = _require(raw, "label_en", str, where)
    when_missing = _resolution(raw, "when_missing", None, where)
    otherwise = _require(raw, "otherwise", bool, where)
    otherwise_reason = raw.get("otherwise_reason", "otherwise")
    if not isinstance(otherwise_reason, str):
        raise DataError(f"{where}: otherwise_reason must be a string")
    not_applicable = _resolution(raw, "not_applicable", "unknown", where)
    applies_to = raw.get("applies_to")
    if applies_to is not None:
        codes = scope["entity_type"].codes if "entity_type" in scope else None
        if not isinstance(applies_to, list) or not all(isinstance(c, str) for c in applies_to):
            raise DataError(f"{where}: applies_to must be a list of entity_type codes")
        bad = [c for c in applies_to if codes and c not in codes]
        if bad:
            raise DataError(
                f"{where}: applies_to has {', '.join(map(repr, bad))}, not entity_type codes; "
                f"expected some of {', '.join(sorted(codes or ()))}"
            )
        applies_to = tuple(applies_to)
        if "entity_type" not in used_columns:
            used_columns.append("entity_type")
    clauses_raw = _require(raw, "clauses", list, where)
    if not clauses_raw:
        raise DataError(f"{where}: expected at least one clause")
    clauses = []
    offset = _anchor(source, fname)
    for j, craw in enumerate(clauses_raw, start=1):
        cwhere = f"{where}, clause {j}"
        if not isinstance(craw, dict):
            raise DataError(f"{cwhere}: expected a table with when, value, reason")
        _unknown_keys(craw, {"when", "value", "reason", "note", "optional"}, cwhere)
        when = _require(craw, "when", str, cwhere)
        value = _require(craw, "value", (bool, str), cwhere)
        if isinstance(value, str):
            if value != "unknown":
                raise DataError(f'{cwhere}: value = {value!r}; expected true, false or "unknown"')
            value = None
        reason = _require(craw, "reason", str, cwhere)
        note = craw.get("note", "")
        optional = craw.get("optional", False)
        if not isinstance(optional, bool):
            raise DataError(f"{cwhere}: optional = {optional!r}; expected true or false")
        line, offset = _file_line(source, offset, when)
        tree = _parse_in_context(when, f"{cwhere} ('when')", line)
        names = _typed(tree, when, scope, f"{cwhere} ('when')", line)
        for n in names:
            if n not in used_columns:
                used_columns.append(n)
        clauses.append(Clause(when, value, reason, str(note), tree, tuple(names), optional))
    return Flag(
        fname,
        label_pl,
        label_en,
        tuple(clauses),
        otherwise,
        otherwise_reason,
        when_missing,
        applies_to,
        not_applicable,
        str(raw.get("note", "")),
    )


def _read_check(
    raw: Any,
    i: int,
    scope: dict[str, _Symbol],
    name: str,
    used_columns: list[str],
    source: str | None = None,
) -> Check:
    where = f"{name}: check #{i}"
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected a table")
    cname = _require(raw, "name", str, where)
    where = f"{name}: check {cname!r}"
    _unknown_keys(
        raw,
        {"name", "label_pl", "label_en", "when", "variables", "flags", "note", "optional"},
        where,
    )
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise DataError(f"{where}: optional = {optional!r}; expected true or false")
    label_pl = _require(raw, "label_pl", str, where)
    label_en = _require(raw, "label_en", str, where)
    when = _require(raw, "when", str, where)
    line, _ = _file_line(source, _anchor(source, cname), when)
    tree = _parse_in_context(when, f"{where} ('when')", line)
    names = _typed(tree, when, scope, f"{where} ('when')", line)
    variables = raw.get("variables", names)
    flags = raw.get("flags", [])
    for key, values, role in (("variables", variables, None), ("flags", flags, "flag")):
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DataError(f"{where}: {key} must be a list of names")
        for v in values:
            symbol = scope.get(v)
            if symbol is None or symbol.role == "param" or (role and symbol.role != role):
                raise DataError(
                    f"{where}: {key} names {v!r}, which is not a "
                    + ("flag of this file" if role else "codebook variable or flag")
                )
    for n in [*names, *variables]:
        if n not in used_columns:
            used_columns.append(n)
    return Check(
        cname,
        label_pl,
        label_en,
        when,
        tuple(variables),
        tuple(flags),
        str(raw.get("note", "")),
        tree,
        tuple(names),
        optional,
    )


def as_ruleset(rules: RuleSet | str | Path | None) -> RuleSet:
    """Return ``rules`` as a :class:`RuleSet` (``None`` → the packaged default).

    Parameters
    ----------
    rules : RuleSet, str, Path or None
        A loaded rule set, a path to a TOML rule file, or ``None``.

    Returns
    -------
    RuleSet

    Examples
    --------
    >>> as_ruleset(None).flag_names[-1]
    'zaz_rule'
    """
    if isinstance(rules, RuleSet):
        return rules
    return load_rules(rules)


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class _Val:
    """A column of values with a mask of which are known (Kleene logic)."""

    kind: str
    data: np.ndarray
    known: np.ndarray
    # for each missing name, where it is (one of) the reason the value is unknown
    blame: Mapping[str, np.ndarray] = field(default_factory=dict)


def _blame(known: np.ndarray, *vals: _Val) -> dict[str, np.ndarray]:
    """Names responsible for the unknown entries of a result built from ``vals``."""
    unknown = ~known
    out: dict[str, np.ndarray] = {}
    for v in vals:
        for name, mask in v.blame.items():
            hit = mask & unknown
            out[name] = out[name] | hit if name in out else hit
    return out


def _column_value(df: pd.DataFrame, name: str, symbol: _Symbol) -> _Val:
    series = df[name]
    known = series.notna().to_numpy(dtype=bool)
    kind = symbol.kind
    data: np.ndarray
    if kind == "bool":
        ok = pd.api.types.is_bool_dtype(series.dtype) or (
            series.dtype == object and all(isinstance(v, bool | np.bool_) for v in series[known])
        )
        if not ok:
            raise DataError(
                f"column {name!r} has dtype {series.dtype}; expected yes/no values "
                "(dtype 'boolean')"
            )
        data = series.astype("boolean").fillna(False).to_numpy(dtype=bool)
    elif kind == "num":
        if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
            series.dtype
        ):
            raise DataError(
                f"column {name!r} has dtype {series.dtype}; expected numbers "
                "(dtype 'Int64' or 'Float64')"
            )
        data = series.astype("Float64").to_numpy(dtype=float, na_value=0.0)
    else:
        data = np.where(known, series.astype(object).astype(str).to_numpy(), "")
        data = data.astype(object)
    return _Val(kind, data, known)


class _Evaluator:
    def __init__(self, n: int, values: Mapping[str, _Val], scope: Mapping[str, _Symbol]):
        self.n = n
        self.values = values
        self.scope = scope

    def _const(self, value: Any) -> _Val:
        kind = _literal_kind(value)
        if kind == "num":
            data = np.full(self.n, float(value))
        elif kind == "bool":
            data = np.full(self.n, bool(value))
        else:
            data = np.full(self.n, value, dtype=object)
        return _Val(kind, data, np.ones(self.n, dtype=bool))

    def eval(self, node: _Node) -> _Val:
        if isinstance(node, _Literal):
            return self._const(node.value)
        if isinstance(node, _Name):
            symbol = self.scope[node.name]
            if symbol.role == "param":
                return self._const(symbol.value)
            v = self.values[node.name]
            return _Val(v.kind, v.data, v.known, {node.name: ~v.known})
        if isinstance(node, _Unary):
            v = self.eval(node.operand)
            if node.op == "not":
                return _Val("bool", ~v.data & v.known, v.known, v.blame)
            return _Val("num", -v.data, v.known, v.blame)
        if isinstance(node, _IsMissing):
            v = self.eval(node.operand)
            data = v.known.copy() if node.negate else ~v.known
            return _Val("bool", data, np.ones(self.n, dtype=bool))
        if isinstance(node, _In):
            v = self.eval(node.operand)
            if node.param is not None:
                items = list(self.scope[node.param.name].value)
            else:
                items = [i.value for i in node.items or ()]
            if v.kind == "num":
                hit = np.isin(v.data, np.asarray(items, dtype=float))
            else:
                hit = np.isin(v.data.astype(str), np.asarray(items, dtype=str))
            if node.negate:
                hit = ~hit
            return _Val("bool", hit & v.known, v.known, v.blame)
        if isinstance(node, _Binary):
            return self._binary(node)
        raise TypeError(f"unexpected node {node!r}")  # pragma: no cover

    def _binary(self, node: _Binary) -> _Val:
        a = self.eval(node.left)
        b = self.eval(node.right)
        op = node.op
        if op in ("and", "or"):
            a_true, a_false = a.known & a.data, a.known & ~a.data
            b_true, b_false = b.known & b.data, b.known & ~b.data
            if op == "and":
                true, false = a_true & b_true, a_false | b_false
            else:
                true, false = a_true | b_true, a_false & b_false
            known = true | false
            return _Val("bool", true, known, _blame(known, a, b))
        known = a.known & b.known
        if op in ("+", "-", "*", "/"):
            with np.errstate(divide="ignore", invalid="ignore"):
                if op == "+":
                    data = a.data + b.data
                elif op == "-":
                    data = a.data - b.data
                elif op == "*":
                    data = a.data * b.data
                else:
                    known = known & (b.data != 0)
                    data = np.divide(a.data, np.where(b.data == 0, 1.0, b.data))
            return _Val("num", np.where(known, data, 0.0), known, _blame(known, a, b))
        if a.kind == "str":
            left, right = a.data.astype(str), b.data.astype(str)
        else:
            left, right = a.data, b.data
        if op == "==":
            data = left == right
        elif op == "!=":
            data = left != right
        elif op == "<":
            data = left < right
        elif op == "<=":
            data = left <= right
        elif op == ">":
            data = left > right
        else:
            data = left >= right
        return _Val("bool", np.asarray(data, dtype=bool) & known, known, _blame(known, a, b))


def _values_for(
    df: pd.DataFrame, names: Sequence[str], scope: Mapping[str, _Symbol], what: str
) -> dict[str, _Val]:
    absent = [n for n in names if n not in df.columns]
    if absent:
        raise DataError(
            f"the data lack column(s) {', '.join(map(repr, absent))} that {what} use; "
            "expected columns with the codebook's canonical names"
        )
    return {n: _column_value(df, n, scope[n]) for n in names}


def _to_series(v: _Val, index: pd.Index) -> pd.Series:
    arr: pd.api.extensions.ExtensionArray
    if v.kind == "bool":
        arr = pd.array(np.where(v.known, v.data, False), dtype="boolean")
        arr[~v.known] = pd.NA
    elif v.kind == "num":
        arr = pd.array(np.where(v.known, v.data, 0.0), dtype="Float64")
        arr[~v.known] = pd.NA
    else:
        # (``None`` as a 0-d object array, as ``np.where`` itself would convert it)
        arr = pd.array(np.where(v.known, v.data, np.array(None, dtype=object)), dtype="string")
    return pd.Series(arr, index=index)


def evaluate(
    df: pd.DataFrame, expression: str, rules: RuleSet | str | Path | None = None
) -> pd.Series:
    """Evaluate one expression of the rule language over a DataFrame.

    Names refer to the codebook's variables, the parameters of ``rules``, and the
    flags of ``rules`` (which must then be columns of ``df``, e.g. the output of
    :func:`es_survey.classify`). Missing values follow Kleene's three-valued logic.

    Parameters
    ----------
    df : DataFrame
        Data with canonical column names (not modified).
    expression : str
        A condition or arithmetic expression.
    rules : RuleSet, str, Path or None
        Rules whose parameters and flags are in scope (``None`` = packaged default).

    Returns
    -------
    Series
        ``boolean``, ``Float64`` or ``string`` dtype, with ``<NA>`` where unknown,
        indexed like ``df``.

    Raises
    ------
    DataError
        If the expression is malformed (with line and column) or uses a name or
        column that does not exist.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"runs_dg": pd.array([True, False, None], dtype="boolean"),
    ...                    "revenue_earned": pd.array([0.0, None, 5.0], dtype="Float64")})
    >>> evaluate(df, "runs_dg or revenue_earned > 0").tolist()
    [True, <NA>, True]
    """
    ruleset = as_ruleset(rules)
    where = f"expression {expression!r}"
    tree = _parse_in_context(expression, where)
    checker = _Checker(ruleset.scope)
    try:
        checker.check(tree)
    except _RuleSyntaxError as exc:
        raise _located(exc, expression, where) from None
    values = _values_for(df, checker.used, ruleset.scope, "the expression")
    result = _Evaluator(len(df), values, ruleset.scope).eval(tree)
    return _to_series(result, df.index)


def blank_data(n: int = 1, rules: RuleSet | str | Path | None = None) -> pd.DataFrame:
    """Build an all-missing DataFrame with every column the rules use, in codebook dtypes.

    Handy for building small examples and tests: fill in the answers you need.
    Yes/no variables are ``boolean``, counts and years ``Int64``, amounts
    ``Float64``, categories ``Categorical`` of their codes, texts ``string``.

    Parameters
    ----------
    n : int
        Number of rows.
    rules : RuleSet, str, Path or None
        Rule set whose variables to include (``None`` = packaged default).

    Returns
    -------
    DataFrame
        ``n`` rows, columns ``rules.variables``, all values ``<NA>``.

    Examples
    --------
    >>> df = blank_data(2)
    >>> str(df["emp_uop"].dtype), str(df["runs_dg"].dtype), df["revenue_total"].isna().all()
    ('Int64', 'boolean', np.True_)
    """
    ruleset = as_ruleset(rules)
    return pd.DataFrame(
        {
            name: pd.Series([pd.NA] * n, dtype=ruleset.scope[name].dtype)
            for name in ruleset.variables
        }
    )
