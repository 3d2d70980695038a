"""The NGSI-LD query language (clause 4.9), scope queries (clause 4.19) and type expressions
(clause 4.17): parsing to an AST, printing it back, expansion, and the errors on bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ascn.errors import BadRequestData
from ascn.ngsild.qlang import (
    MAX_LENGTH,
    OPERATORS,
    Comparison,
    Exists,
    Expression,
    Literal,
    Logical,
    Path,
    ScopeMatch,
    TypeName,
    atoms,
    classify,
    expand,
    parse_q,
    parse_scope_q,
    parse_types,
)

MODEST = settings(max_examples=200, deadline=None)
VOCAB = "https://example.org/vocab/"


def iri(name: str) -> str:
    return VOCAB + name


def number(value: float) -> Literal:
    return Literal("number", value)


def string(value: str) -> Literal:
    return Literal("string", value)


def compare(attribute: str, op: str, *values: Literal, range: bool = False) -> Comparison:
    return Comparison(Path(attribute), op, values, range)


# --- operators and values -------------------------------------------------------------------


@pytest.mark.parametrize("op", ["==", "!=", ">", ">=", "<", "<="])
def test_every_comparison_operator(op: str) -> None:
    assert parse_q(f"speed{op}10") == compare("speed", op, number(10))


def test_every_operator_is_known() -> None:
    assert set(OPERATORS) == {"==", "!=", ">", ">=", "<", "<=", "~=", "!~="}


def test_pattern_operators_take_a_regular_expression() -> None:
    assert parse_q("name~=^Tow.r$") == compare("name", "~=", string("^Tow.r$"))
    assert parse_q("name!~=(?i)tower") == compare("name", "!~=", string("(?i)tower"))
    # A quoted pattern may hold what would otherwise end the term.
    assert parse_q('name~="^(a|b);c$"') == compare("name", "~=", string("^(a|b);c$"))


def test_a_pattern_ends_at_the_next_logical_operator() -> None:
    assert parse_q("name~=ab.*;speed>1") == Logical(
        ";", (compare("name", "~=", string("ab.*")), compare("speed", ">", number(1)))
    )
    assert parse_q("(name~=(x)y)|a") == Logical(
        "|", (compare("name", "~=", string("(x)y")), Exists(Path("a")))
    )


def test_an_invalid_regular_expression_is_bad_request_data() -> None:
    # The position is where the pattern starts; an unquoted pattern runs to a ";" or "|"
    # outside its own parentheses.
    with pytest.raises(BadRequestData, match=r"position 6: invalid regular expression"):
        parse_q("name~=[a-")
    with pytest.raises(BadRequestData, match=r"position 6: invalid regular expression"):
        parse_q("name~=a(b|c;x==1")
    with pytest.raises(BadRequestData, match=r"position 6: invalid regular expression"):
        parse_q('name~="(unclosed"')
    assert parse_q("name~=a(b|c)") == parse_q('name~="a(b|c)"')


def test_a_value_list_is_any_of_its_values() -> None:
    assert parse_q("a==1,2,3") == compare("a", "==", number(1), number(2), number(3))
    assert parse_q('a!="x","y"') == compare("a", "!=", string("x"), string("y"))
    assert parse_q("a==true,false") == compare(
        "a", "==", Literal("boolean", True), Literal("boolean", False)
    )


def test_a_range_has_two_ends() -> None:
    assert parse_q("a==1..5") == compare("a", "==", number(1), number(5), range=True)
    assert parse_q("a!=-2.5..7") == compare("a", "!=", number(-2.5), number(7), range=True)
    assert parse_q('a=="a".."m"') == compare("a", "==", string("a"), string("m"), range=True)
    assert parse_q("a==2020-01-01T00:00:00Z..2021-01-01T00:00:00Z") == compare(
        "a",
        "==",
        Literal("datetime", "2020-01-01T00:00:00Z"),
        Literal("datetime", "2021-01-01T00:00:00Z"),
        range=True,
    )


@pytest.mark.parametrize("op", [">", ">=", "<", "<="])
def test_lists_and_ranges_need_equality(op: str) -> None:
    with pytest.raises(BadRequestData, match="list of values is only allowed"):
        parse_q(f"a{op}1,2")
    with pytest.raises(BadRequestData, match="range is only allowed"):
        parse_q(f"a{op}1..2")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"plain"', "plain"),
        ('"with \\"quotes\\""', 'with "quotes"'),
        ('"back\\\\slash"', "back\\slash"),
        ('"a;b|c)d,e"', "a;b|c)d,e"),
        ('""', ""),
        ('"  spaced  "', "  spaced  "),
        ('"ünïcødé ไทย"', "ünïcødé ไทย"),
        ('"12"', "12"),
        ('"true"', "true"),
    ],
)
def test_quoted_strings(text: str, value: str) -> None:
    assert parse_q(f"name=={text}") == compare("name", "==", string(value))


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("3.25", 3.25),
        ("-0.5", -0.5),
        (".5", 0.5),
        ("1e3", 1000),
        ("2.5E-2", 0.025),
        ("-1.5e+3", -1500.0),
    ],
)
def test_numbers(raw: str, value: float) -> None:
    parsed = parse_q(f"a>={raw}")
    assert isinstance(parsed, Comparison)
    (literal,) = parsed.values
    assert literal.kind == "number"
    assert literal.value == value


def test_integers_stay_integers_and_decimals_stay_floats() -> None:
    assert classify("42").value == 42
    assert isinstance(classify("42").value, int)
    assert isinstance(classify("42.0").value, float)
    assert isinstance(classify("1e3").value, int)
    assert isinstance(classify("1.5e3").value, float)


def test_booleans() -> None:
    assert parse_q("on==true") == compare("on", "==", Literal("boolean", True))
    assert parse_q("on==false") == compare("on", "==", Literal("boolean", False))
    assert classify("True").kind == "uri"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("2024-01-31T10:20:30Z", "datetime"),
        ("2024-01-31T10:20:30.123Z", "datetime"),
        ("2024-01-31T10:20:30+07:00", "datetime"),
        ("2024-01-31T10:20", "datetime"),
        ("2024-01-31", "date"),
        ("10:20:30", "time"),
        ("10:20", "time"),
        ("10:20:30.5", "time"),
        ("2024-13-31", "uri"),
        ("2024-02-30T10:00:00Z", "uri"),
        ("25:00:00", "uri"),
        ("urn:ngsi-ld:Building:A", "uri"),
        ("https://example.org/x?y=1", "uri"),
        ("Tower", "uri"),
    ],
)
def test_unquoted_values_are_classified(raw: str, kind: str) -> None:
    assert parse_q(f"a=={raw}") == compare("a", "==", Literal(kind, raw))


def test_a_bare_uri_keeps_its_colons_and_slashes() -> None:
    assert parse_q("locatedAt==urn:ngsi-ld:City:Bangkok;x==https://e.org/a/b#c") == Logical(
        ";",
        (
            compare("locatedAt", "==", Literal("uri", "urn:ngsi-ld:City:Bangkok")),
            compare("x", "==", Literal("uri", "https://e.org/a/b#c")),
        ),
    )


# --- paths ----------------------------------------------------------------------------------


def test_paths() -> None:
    one = number(1)
    assert parse_q("a.b.c==1") == Comparison(Path("a", ("b", "c")), "==", (one,))
    assert parse_q("a[b][c]==1") == Comparison(Path("a", (), ("b", "c")), "==", (one,))
    assert parse_q("a.b[c]==1") == Comparison(Path("a", ("b",), ("c",)), "==", (one,))
    assert parse_q("a.observedAt>2020-01-01T00:00:00Z") == Comparison(
        Path("a", ("observedAt",)), ">", (Literal("datetime", "2020-01-01T00:00:00Z"),)
    )
    assert parse_q("a[key with space]==1") == Comparison(
        Path("a", (), ("key with space",)), "==", (one,)
    )


@pytest.mark.parametrize(
    "path",
    [Path("a"), Path("a", ("b", "c")), Path("a", (), ("k",)), Path("a", ("b",), ("k", "l"))],
)
def test_paths_print_as_they_are_written(path: Path) -> None:
    assert parse_q(str(path)) == Exists(path)


def test_expand_expands_attributes_sub_attributes_and_types_only() -> None:
    parsed = parse_q("a.b[c][d]==1;a.observedAt>2020-01-01T00:00:00Z|!e.unitCode|f.datasetId")
    assert expand(parsed, iri) == Logical(
        "|",
        (
            Logical(
                ";",
                (
                    Comparison(Path(iri("a"), (iri("b"),), ("c", "d")), "==", (number(1),)),
                    Comparison(
                        Path(iri("a"), ("observedAt",)),
                        ">",
                        (Literal("datetime", "2020-01-01T00:00:00Z"),),
                    ),
                ),
            ),
            Exists(Path(iri("e"), ("unitCode",)), negated=True),
            Exists(Path(iri("f"), ("datasetId",))),
        ),
    )
    for member in ("createdAt", "modifiedAt", "objectType", "lang"):
        expanded = expand(parse_q(f"a.{member}"), iri)
        assert expanded == Exists(Path(iri("a"), (member,)))


def test_expand_leaves_values_and_scopes_alone() -> None:
    parsed = parse_q("a==urn:x:y,b")
    expanded = expand(parsed, iri)
    assert isinstance(expanded, Comparison)
    assert expanded.values == (Literal("uri", "urn:x:y"), Literal("uri", "b"))
    scopes = parse_scope_q("/a/+;/b/#")
    assert expand(scopes, iri) == scopes
    assert expand(parse_types("A;(B|C)"), iri) == Logical(
        ";",
        (TypeName(iri("A")), Logical("|", (TypeName(iri("B")), TypeName(iri("C"))))),
    )


# --- existence, precedence, parentheses -----------------------------------------------------


def test_existence_and_non_existence() -> None:
    assert parse_q("a") == Exists(Path("a"))
    assert parse_q("!a") == Exists(Path("a"), negated=True)
    assert parse_q("!a.b") == Exists(Path("a", ("b",)), negated=True)
    assert parse_q("a;!b") == Logical(";", (Exists(Path("a")), Exists(Path("b"), negated=True)))


def test_and_binds_tighter_than_or() -> None:
    a, b, c, d = (Exists(Path(n)) for n in "abcd")
    assert parse_q("a;b|c") == Logical("|", (Logical(";", (a, b)), c))
    assert parse_q("a|b;c") == Logical("|", (a, Logical(";", (b, c))))
    assert parse_q("a|b;c|d") == Logical("|", (a, Logical(";", (b, c)), d))
    assert parse_q("a;b;c") == Logical(";", (a, b, c))


def test_parentheses_group() -> None:
    a, b, c = (Exists(Path(n)) for n in "abc")
    assert parse_q("a;(b|c)") == Logical(";", (a, Logical("|", (b, c))))
    assert parse_q("(a;b)|c") == Logical("|", (Logical(";", (a, b)), c))
    assert parse_q("((a))") == a
    assert parse_q('(name=="Pisa"|name=="Eiffel");almostFull==false') == Logical(
        ";",
        (
            Logical(
                "|",
                (compare("name", "==", string("Pisa")), compare("name", "==", string("Eiffel"))),
            ),
            compare("almostFull", "==", Literal("boolean", False)),
        ),
    )


def test_parentheses_nest_up_to_a_limit() -> None:
    assert parse_q("(" * 30 + "a" + ")" * 30) == Exists(Path("a"))
    with pytest.raises(BadRequestData, match="nest too deeply"):
        parse_q("(" * 40 + "a" + ")" * 40)


def test_atoms_lists_the_terms_in_order() -> None:
    parsed = parse_q("a;(b|c==1)|!d")
    assert [str(atom) for atom in atoms(parsed)] == ["a", "b", "c==1", "!d"]


def test_an_expression_prints_back_to_an_equivalent_text() -> None:
    text = '(a==1,2;b.c[d]!="x")|e~="^y$"|!f'
    assert str(parse_q(text)) == text


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("a==", 3, "expected a value"),
        ("a=1", 1, "expected an operator"),
        ("a b", 1, "expected an operator"),
        ("(a==1", 5, "expected '\\)'"),
        ("a==1)", 4, "unexpected '\\)'"),
        ("a==1;", 5, "expected an attribute name"),
        ("a==1;;b==2", 5, "expected an attribute name"),
        ("a==1|b==2)", 9, "unexpected '\\)'"),
        ("a[b==1", 6, "expected '\\]'"),
        ("a[]==1", 2, "expected a key"),
        ("a.==1", 2, "expected an attribute name"),
        (".a==1", 0, "expected an attribute name"),
        ("!", 1, "expected an attribute name"),
        ("()", 1, "expected an attribute name"),
        ('a=="abc', 7, "not closed"),
        ('a=="x"y', 6, "unexpected 'y'"),
        ("a>1,2", 5, "list of values"),
        ("a>1..2", 6, "range"),
        ("a==1..", 6, "expected a value"),
        ("a==,1", 3, "expected a value"),
        ("a~=", 3, "expected a regular expression"),
        ("a~=(", 3, "invalid regular expression"),
    ],
)
def test_errors_name_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(BadRequestData, match=rf"^invalid q at position {position}: .*{message}"):
        parse_q(text)


def test_an_overlong_expression_is_refused() -> None:
    with pytest.raises(BadRequestData, match="longer than"):
        parse_q("a" * (MAX_LENGTH + 1))
    assert parse_q("a" * MAX_LENGTH) == Exists(Path("a" * MAX_LENGTH))


def test_errors_are_bad_request_data_problems() -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_q("a==")
    assert caught.value.problem()["status"] == 400
    assert caught.value.problem()["type"].endswith("/BadRequestData")


# --- scope queries --------------------------------------------------------------------------


def test_scope_patterns() -> None:
    assert parse_scope_q("/Madrid/Gardens") == ScopeMatch("/Madrid/Gardens")
    assert parse_scope_q("/Madrid/+/ParqueNorte") == ScopeMatch("/Madrid/+/ParqueNorte")
    assert parse_scope_q("/Madrid/#") == ScopeMatch("/Madrid/#")
    assert parse_scope_q("/#") == ScopeMatch("/#")
    assert parse_scope_q("/") == ScopeMatch("/")


def test_scope_logic() -> None:
    a, b, c = ScopeMatch("/a"), ScopeMatch("/b/#"), ScopeMatch("/+/c")
    assert parse_scope_q("/a;/b/#") == Logical(";", (a, b))
    assert parse_scope_q("/a,/b/#") == Logical("|", (a, b))
    assert parse_scope_q("/a|/b/#") == Logical("|", (a, b))
    assert parse_scope_q("/a;/b/#,/+/c") == Logical("|", (Logical(";", (a, b)), c))
    assert parse_scope_q("/a;(/b/#,/+/c)") == Logical(";", (a, Logical("|", (b, c))))


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("a", 0),
        ("/a#", 2),
        ("/#/", 2),
        ("/a//b", 2),
        ("/a/+b", 4),
        ("/a b", 2),
        ("/a;", 3),
        ("", 0),
    ],
)
def test_bad_scope_patterns(text: str, position: int) -> None:
    with pytest.raises(BadRequestData, match=rf"^invalid scopeQ at position {position}: "):
        parse_scope_q(text)


@pytest.mark.parametrize("text", ["/a/#/b", "/#/a", "/a/#;/b/#/c"])
def test_hash_only_stands_last(text: str) -> None:
    with pytest.raises(BadRequestData, match="'#' may only stand as the last segment"):
        parse_scope_q(text)


@pytest.mark.parametrize(
    ("pattern", "matching", "other"),
    [
        ("/Madrid/Gardens", ["/Madrid/Gardens"], ["/Madrid", "/Madrid/Gardens/North", "/Madrid/G"]),
        (
            "/Madrid/#",
            ["/Madrid", "/Madrid/Gardens", "/Madrid/Gardens/North"],
            ["/MadridX", "/Barcelona/Madrid", "/"],
        ),
        ("/#", ["/", "/a", "/a/b/c"], []),
        (
            "/Madrid/+/North",
            ["/Madrid/Gardens/North", "/Madrid/Parks/North"],
            ["/Madrid/North", "/Madrid/a/b/North", "/Madrid/Gardens/North/x"],
        ),
        ("/+", ["/a", "/Madrid"], ["/", "/a/b"]),
        ("/+/#", ["/a", "/a/b", "/a/b/c"], ["/"]),
        ("/", ["/"], ["/a"]),
        ("/a.b/c*", ["/a.b/c*"], ["/aXb/c", "/a.b/cc"]),
    ],
)
def test_scope_regex(pattern: str, matching: list[str], other: list[str]) -> None:
    regex = ScopeMatch(pattern).regex()
    for scope in matching:
        assert re.search(regex, scope), (pattern, scope)
    for scope in other:
        assert not re.search(regex, scope), (pattern, scope)


# --- type expressions -----------------------------------------------------------------------


def test_type_expressions() -> None:
    a, b, c = TypeName("A"), TypeName("B"), TypeName("C")
    assert parse_types("A") == a
    assert parse_types("A,B") == Logical("|", (a, b))
    assert parse_types("A|B") == Logical("|", (a, b))
    assert parse_types("A;B") == Logical(";", (a, b))
    assert parse_types("(A;B),C") == Logical("|", (Logical(";", (a, b)), c))
    assert parse_types("A;B,C") == Logical("|", (Logical(";", (a, b)), c))
    assert parse_types("A;(B,C)") == Logical(";", (a, Logical("|", (b, c))))
    assert parse_types("(A)") == a


def test_types_may_be_full_iris() -> None:
    first = "https://ngsi-ld-test-suite/context#Building"
    second = "https://example.org/v1.2/types/Parking"
    assert parse_types(f"{first},{second}") == Logical("|", (TypeName(first), TypeName(second)))
    assert parse_types(f"{first};urn:x:T") == Logical(";", (TypeName(first), TypeName("urn:x:T")))


@pytest.mark.parametrize(
    ("text", "position"),
    [("", 0), ("A B", 1), ("A,,B", 2), ("(A", 2), ("A)", 1), (",A", 0), ("A;", 2), ("()", 1)],
)
def test_bad_type_expressions(text: str, position: int) -> None:
    with pytest.raises(BadRequestData, match=rf"^invalid type at position {position}: "):
        parse_types(text)


# --- properties -----------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True)
keys = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_ -]{0,7}", fullmatch=True)
paths = st.builds(
    Path,
    names,
    st.lists(names | st.sampled_from(["observedAt", "unitCode", "datasetId"]), max_size=2).map(
        tuple
    ),
    st.lists(keys, max_size=2).map(tuple),
)
literals = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53).map(number),
    st.floats(allow_nan=False, allow_infinity=False).map(number),
    st.text(max_size=12).map(string),
    st.booleans().map(lambda b: Literal("boolean", b)),
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ).map(lambda d: Literal("datetime", d.isoformat().replace("+00:00", "Z"))),
    st.dates().filter(lambda d: d.year >= 1000).map(lambda d: Literal("date", d.isoformat())),
    st.times().map(lambda t: Literal("time", t.isoformat())),
    st.from_regex(r"urn:ngsi-ld:[A-Za-z]{1,6}:[A-Za-z0-9]{1,6}", fullmatch=True).map(
        lambda u: Literal("uri", u)
    ),
)
patterns = st.from_regex(r"\^?[A-Za-z0-9 ]{0,8}(\.\*)?\$?", fullmatch=True).map(string)
single = st.builds(
    lambda path, op, value: Comparison(path, op, (value,)),
    paths,
    st.sampled_from(["==", "!=", ">", ">=", "<", "<="]),
    literals,
)
listed = st.builds(
    lambda path, op, values: Comparison(path, op, tuple(values)),
    paths,
    st.sampled_from(["==", "!="]),
    st.lists(literals, min_size=2, max_size=4),
)
ranged = st.builds(
    lambda path, op, low, high: Comparison(path, op, (low, high), range=True),
    paths,
    st.sampled_from(["==", "!="]),
    literals,
    literals,
)
matched = st.builds(
    lambda path, op, pattern: Comparison(path, op, (pattern,)),
    paths,
    st.sampled_from(["~=", "!~="]),
    patterns,
)
existing = st.builds(Exists, paths, st.booleans())
terms: st.SearchStrategy[Expression] = single | listed | ranged | matched | existing


def logical(items: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    return st.builds(
        lambda op, children: Logical(op, tuple(children)),
        st.sampled_from([";", "|"]),
        st.lists(items, min_size=2, max_size=4),
    )


q_expressions = st.recursive(terms, logical, max_leaves=12)
segments = st.from_regex(r"[A-Za-z0-9_.:-]{1,6}", fullmatch=True) | st.just("+")
scope_patterns = st.builds(
    lambda parts, hash_: ScopeMatch("/" + "/".join([*parts, *(["#"] if hash_ else [])])),
    st.lists(segments, min_size=1, max_size=4),
    st.booleans(),
) | st.sampled_from([ScopeMatch("/#"), ScopeMatch("/")])
scope_expressions = st.recursive(scope_patterns, logical, max_leaves=8)
type_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,7}", fullmatch=True) | st.from_regex(
    r"https://[a-z]{1,6}\.org/[a-z.]{1,6}#[A-Za-z]{1,6}", fullmatch=True
)
type_expressions = st.recursive(type_names.map(TypeName), logical, max_leaves=8)
hostile = st.text(alphabet=st.sampled_from(list('ab1.[]()!=<>~;|,"\\ -:/#+T')), max_size=30)


@MODEST
@given(st.text(max_size=60) | hostile)
def test_parse_q_only_raises_bad_request_data(text: str) -> None:
    try:
        parsed = parse_q(text)
    except BadRequestData as error:
        assert re.match(r"^(invalid q at position \d+: |q is longer)", str(error))
        return
    assert isinstance(parsed, Comparison | Exists | Logical)


@MODEST
@given(q_expressions)
def test_q_round_trips_through_its_text(expression: Expression) -> None:
    assert parse_q(str(expression)) == expression


@MODEST
@given(scope_expressions)
def test_scope_q_round_trips_through_its_text(expression: Expression) -> None:
    assert parse_scope_q(str(expression)) == expression


@MODEST
@given(type_expressions)
def test_types_round_trip_through_their_text(expression: Expression) -> None:
    assert parse_types(str(expression)) == expression


@MODEST
@given(st.text(max_size=40) | hostile)
def test_parse_scope_q_only_raises_bad_request_data(text: str) -> None:
    try:
        parsed = parse_scope_q(text)
    except BadRequestData:
        return
    assert all(isinstance(atom, ScopeMatch) for atom in atoms(parsed))
    for atom in atoms(parsed):
        assert isinstance(atom, ScopeMatch)
        re.compile(atom.regex())


@MODEST
@given(st.text(max_size=40) | hostile)
def test_parse_types_only_raises_bad_request_data(text: str) -> None:
    try:
        parsed = parse_types(text)
    except BadRequestData:
        return
    assert all(isinstance(atom, TypeName) and atom.name for atom in atoms(parsed))
