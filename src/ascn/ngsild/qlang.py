"""The NGSI-LD query language (clause 4.9): q expressions parsed to an AST.

    q      := or
    or     := and ("|" and)*            ";" (AND) binds tighter than "|" (OR)
    and    := term (";" term)*
    term   := "(" or ")" | "!" path | path [op values]
    path   := name ("." name)* ("[" key "]")*
    op     := "==" | "!=" | ">=" | ">" | "<=" | "<" | "~=" | "!~="
    values := value ("," value)* | value ".." value

A value is a quoted string, a number, true/false, a DateTime, a Date, a Time, or any other
unquoted text (a URI). Errors name the position (counted from 0) where the text went wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from ascn.errors import BadRequestData

OPERATORS = ("!~=", "==", "!=", ">=", "<=", "~=", ">", "<")
_NAME = re.compile(r"[^\s=!<>~;|()\[\].,\"']+")
_KEY = re.compile(r"[^\[\]\"]+")
_TYPE = re.compile(r"[^\s;|,()]+")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
MAX_LENGTH = 4096
MEMBERS = frozenset(
    {"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "objectType", "lang"}
)
"""Names after a "." that address a member of the attribute, not a sub-attribute."""


@dataclass(frozen=True, slots=True)
class Path:
    """An attribute, optionally a sub-attribute (or member such as observedAt) of it, optionally
    keys inside the value: a.b[c][d] is Path("a", ("b",), ("c", "d"))."""

    attribute: str
    sub: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ".".join((self.attribute, *self.sub)) + "".join(f"[{k}]" for k in self.keys)


@dataclass(frozen=True, slots=True)
class Literal:
    """A value in a query; kind is number, string, boolean, datetime, date, time or uri."""

    kind: str
    value: str | float | int | bool

    def __str__(self) -> str:
        if self.kind == "string":
            text = str(self.value).replace("\\", "\\\\").replace('"', '\\"')
            return f'"{text}"'
        if self.kind == "boolean":
            return "true" if self.value else "false"
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Comparison:
    path: Path
    op: str
    values: tuple[Literal, ...]
    """One value, several (a list: any of them), or two with `range` set (from..to)."""
    range: bool = False

    def __str__(self) -> str:
        joined = ".." if self.range else ","
        return f"{self.path}{self.op}{joined.join(str(v) for v in self.values)}"


@dataclass(frozen=True, slots=True)
class Exists:
    path: Path
    negated: bool = False

    def __str__(self) -> str:
        return ("!" if self.negated else "") + str(self.path)


@dataclass(frozen=True, slots=True)
class Logical:
    op: str
    """";" (and) or "|" (or)."""
    items: tuple[Expression, ...]

    def __str__(self) -> str:
        return self.op.join(
            f"({item})" if isinstance(item, Logical) else str(item) for item in self.items
        )


@dataclass(frozen=True, slots=True)
class ScopeMatch:
    """A scope pattern (clause 4.18): segments, where "+" stands for any one segment and a final
    "#" for the scope itself and everything below it."""

    pattern: str

    def __str__(self) -> str:
        return self.pattern

    def regex(self) -> str:
        """The pattern as a regular expression over scope strings."""
        segments = self.pattern.strip("/").split("/") if self.pattern != "/" else []
        out = ""
        for index, segment in enumerate(segments):
            if segment == "#" and index == len(segments) - 1:
                return f"^{out}(/.*)?$" if out else "^/.*$"
            out += "/[^/]+" if segment == "+" else "/" + re.escape(segment)
        return f"^{out or '/'}$"


@dataclass(frozen=True, slots=True)
class TypeName:
    """An entity type in a type expression (clause 4.17)."""

    name: str

    def __str__(self) -> str:
        return self.name


Expression = Comparison | Exists | ScopeMatch | TypeName | Logical
_SCOPE = re.compile(r"/(?:[^\s/;|,()#+]+|\+|#)?(?:/(?:[^\s/;|,()#+]+|\+|#))*")


def parse_q(text: str) -> Expression:
    """A q expression, or BadRequestData naming where it went wrong."""
    return _Parser(text, "q").parse()


def parse_scope_q(text: str) -> Expression:
    """A scopeQ expression: scope patterns joined by ";" (and), "|" or "," (or), with
    parentheses."""
    return _Parser(text, "scopeQ", term="scope").parse()


def parse_types(text: str) -> Expression:
    """A type selection: "A,B" or "A|B" (either), "A;B" (both), with parentheses."""
    return _Parser(text, "type", term="type").parse()


def expand(expression: Expression, iri: Callable[[str], str]) -> Expression:
    """The expression with attribute names, sub-attribute names and types expanded to IRIs
    (members such as observedAt, and keys inside values, stay as written)."""
    if isinstance(expression, Logical):
        return Logical(expression.op, tuple(expand(item, iri) for item in expression.items))
    if isinstance(expression, TypeName):
        return TypeName(iri(expression.name))
    if isinstance(expression, Comparison | Exists):
        path = expression.path
        sub = tuple(name if name in MEMBERS else iri(name) for name in path.sub)
        expanded = Path(iri(path.attribute), sub, path.keys)
        if isinstance(expression, Exists):
            return Exists(expanded, expression.negated)
        return Comparison(expanded, expression.op, expression.values, expression.range)
    return expression


def atoms(expression: Expression) -> list[Expression]:
    """The terms of an expression, in order."""
    if isinstance(expression, Logical):
        return [atom for item in expression.items for atom in atoms(item)]
    return [expression]


class _Parser:
    def __init__(self, text: str, what: str, term: str = "q") -> None:
        if len(text) > MAX_LENGTH:
            raise BadRequestData(f"{what} is longer than {MAX_LENGTH} characters")
        self.text = text
        self.what = what
        self.kind = term
        self.at = 0

    def fail(self, message: str) -> BadRequestData:
        return BadRequestData(f"invalid {self.what} at position {self.at}: {message}")

    def parse(self) -> Expression:
        if not self.text.strip():
            raise self.fail("the expression is empty")
        expression = self.disjunction(0)
        if self.at < len(self.text):
            raise self.fail(f"unexpected {self.text[self.at]!r}")
        return expression

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def disjunction(self, depth: int) -> Expression:
        items = [self.conjunction(depth)]
        while self.peek() == "|" or (self.kind != "q" and self.peek() == ","):
            self.at += 1
            items.append(self.conjunction(depth))
        return items[0] if len(items) == 1 else Logical("|", tuple(items))

    def conjunction(self, depth: int) -> Expression:
        items = [self.term(depth)]
        while self.peek() == ";":
            self.at += 1
            items.append(self.term(depth))
        return items[0] if len(items) == 1 else Logical(";", tuple(items))

    def term(self, depth: int) -> Expression:
        if self.peek() == "(":
            if depth > 32:
                raise self.fail("parentheses nest too deeply")
            self.at += 1
            inner = self.disjunction(depth + 1)
            if self.peek() != ")":
                raise self.fail("expected ')'")
            self.at += 1
            return inner
        if self.kind == "scope":
            return self.scope_term()
        if self.kind == "type":
            match = _TYPE.match(self.text, self.at)
            if match is None:
                raise self.fail("expected an entity type")
            self.at = match.end()
            return TypeName(match.group())
        if self.peek() == "!" and not self.text.startswith(("!=", "!~="), self.at):
            self.at += 1
            return Exists(self.path(), negated=True)
        path = self.path()
        op = next((o for o in OPERATORS if self.text.startswith(o, self.at)), None)
        if op is None:
            if self.peek() in ("", ";", "|", ")"):
                return Exists(path)
            raise self.fail("expected an operator (==, !=, >, >=, <, <=, ~=, !~=)")
        self.at += len(op)
        return self.comparison(path, op)

    def scope_term(self) -> ScopeMatch:
        match = _SCOPE.match(self.text, self.at)
        if match is None or not match.group():
            raise self.fail("expected a scope such as /Madrid/Gardens, /Madrid/# or /+/Gardens")
        pattern = match.group()
        if "#" in pattern[:-1] or (pattern.endswith("#") and not pattern.endswith("/#")):
            raise self.fail("'#' may only stand as the last segment")
        self.at = match.end()
        return ScopeMatch(pattern)

    def path(self) -> Path:
        names = [self.name()]
        while self.peek() == ".":
            self.at += 1
            names.append(self.name())
        keys: list[str] = []
        while self.peek() == "[":
            self.at += 1
            match = _KEY.match(self.text, self.at)
            if match is None:
                raise self.fail("expected a key inside [ ]")
            self.at = match.end()
            if self.peek() != "]":
                raise self.fail("expected ']'")
            self.at += 1
            keys.append(match.group())
        return Path(names[0], tuple(names[1:]), tuple(keys))

    def name(self) -> str:
        match = _NAME.match(self.text, self.at)
        if match is None:
            raise self.fail("expected an attribute name")
        self.at = match.end()
        return match.group()

    def comparison(self, path: Path, op: str) -> Comparison:
        if op in ("~=", "!~="):
            return Comparison(path, op, (Literal("string", self.pattern()),))
        first = self.value()
        if self.text.startswith("..", self.at):
            self.at += 2
            last = self.value()
            if op not in ("==", "!="):
                raise self.fail("a range is only allowed with == or !=")
            return Comparison(path, op, (first, last), range=True)
        values = [first]
        while self.peek() == ",":
            self.at += 1
            values.append(self.value())
        if len(values) > 1 and op not in ("==", "!="):
            raise self.fail("a list of values is only allowed with == or !=")
        return Comparison(path, op, tuple(values))

    def pattern(self) -> str:
        """A regular expression, quoted, or unquoted up to a ";", "|" or ")" outside its own
        parentheses."""
        start = self.at
        quoted = self.peek() == '"'
        if quoted:
            pattern = self.quoted()
        else:
            depth = 0
            while self.at < len(self.text):
                char = self.text[self.at]
                if depth == 0 and (char in ";|" or char == ")"):
                    break
                depth += {"(": 1, ")": -1}.get(char, 0)
                self.at += 1
            pattern = self.text[start : self.at]
        if not pattern and not quoted:
            raise self.fail("expected a regular expression")
        try:
            re.compile(pattern)
        except re.error as error:
            self.at = start
            raise self.fail(f"invalid regular expression: {error}") from None
        return pattern

    def value(self) -> Literal:
        if self.peek() == '"':
            return Literal("string", self.quoted())
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in ";|),":
            if self.text.startswith("..", self.at):
                break
            self.at += 1
        raw = self.text[start : self.at]
        if not raw:
            raise self.fail("expected a value")
        return classify(raw)

    def quoted(self) -> str:
        self.at += 1
        out: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\" and self.at + 1 < len(self.text):
                out.append(self.text[self.at + 1])
                self.at += 2
                continue
            if char == '"':
                self.at += 1
                return "".join(out)
            out.append(char)
            self.at += 1
        raise self.fail("a quoted string is not closed")


def classify(raw: str) -> Literal:
    """An unquoted value: boolean, number, DateTime, Date, Time, else a URI or plain text."""
    if raw in ("true", "false"):
        return Literal("boolean", raw == "true")
    if _NUMBER.fullmatch(raw):
        number = float(raw)
        whole = number.is_integer() and "." not in raw and abs(number) < 2**63
        return Literal("number", int(number) if whole else number)
    for kind, parse in (
        ("datetime", datetime.fromisoformat),
        ("date", date.fromisoformat),
        ("time", time.fromisoformat),
    ):
        if _looks_like(kind, raw):
            try:
                parse(raw)
            except ValueError:
                continue
            return Literal(kind, raw)
    return Literal("uri", raw)


def _looks_like(kind: str, raw: str) -> bool:
    if kind == "datetime":
        return len(raw) >= 16 and raw[4:5] == "-" and raw[10:11] == "T"
    if kind == "date":
        return len(raw) == 10 and raw[4:5] == "-" and raw[7:8] == "-"
    return len(raw) >= 5 and raw[2:3] == ":" and raw[:2].isdigit()
