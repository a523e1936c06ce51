"""Properties of the lexer and the channels built on it.

The lexer must never fail, whatever it is fed (a snippet can be any bytes, and start inside a
comment or a string), and its tokens must tile the text without overlapping. The channels must
be blind to what they promise to ignore: whitespace (text and code channels) and consistent
renaming of identifiers (normalized channel).
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_testlib import FAST
from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis.channels import code_channel, normalized_channel, text_channel
from indexer.analysis.keywords import keywords
from indexer.analysis.languages import Family, family_of
from indexer.analysis.lexer import StartState, TokenKind, Tokens, encode, lex, line_starts
from indexer.analysis.windows import lex_lines, multiline_tokens

# One language of each lexical family (None: the generic family).
FAMILY_LANGUAGE = {
    Family.GENERIC: None,
    Family.C_LIKE: "C",
    Family.JAVASCRIPT: "JavaScript",
    Family.PYTHON: "Python",
    Family.HASH: "Shell",
    Family.RUST: "Rust",
    Family.GO: "Go",
    Family.SQL: "SQL",
    Family.LISP: "Clojure",
    Family.HTML: "HTML",
    Family.LUA: "Lua",
    Family.HASKELL: "Haskell",
}
LANGUAGES = st.sampled_from(list(FAMILY_LANGUAGE.values()))
STATES = st.sampled_from(list(StartState))


def test_every_family_is_exercised() -> None:
    assert set(FAMILY_LANGUAGE) == set(Family), "add a language of the new family to FAMILY_LANGUAGE"
    assert all(family_of(lang) is fam for fam, lang in FAMILY_LANGUAGE.items())


def assert_well_formed(tokens: Tokens, n_bytes: int) -> None:
    """Tokens are ordered, non-overlapping, inside the text and never empty."""
    starts, ends = tokens.starts.astype(np.int64), tokens.ends.astype(np.int64)
    assert starts.shape == ends.shape == tokens.kinds.shape
    assert np.all(starts >= 0) and np.all(ends <= n_bytes), "a token outside the text"
    assert np.all(ends > starts), "an empty token"
    assert np.all(starts[1:] >= ends[:-1]), "overlapping or unordered tokens"
    assert set(np.unique(tokens.kinds).tolist()) <= {int(k) for k in TokenKind}


# Code-like text: the characters that open and close comments and strings in some family.
CODEISH = st.text(st.sampled_from(list("ab_1 \t\n\\\"'`#/*-;<!>{}[]r.$=(),\u00e9\u4e2d")), max_size=200)


@FAST
@given(st.one_of(st.text(max_size=200), CODEISH), LANGUAGES, STATES)
def test_tokens_tile_any_text(text: str, language, state: StartState) -> None:
    data = encode(text)
    assert_well_formed(lex(data, language, state), data.shape[0])


@FAST
@given(st.binary(max_size=300), LANGUAGES, STATES)
def test_arbitrary_bytes_never_crash_the_lexer(raw: bytes, language, state: StartState) -> None:
    data = np.frombuffer(raw, dtype=np.uint8)
    tokens = lex(data, language, state)
    assert_well_formed(tokens, len(raw))
    # The channels built on the tokens take any bytes too.
    assert len(text_channel(tokens.data)) == sum(1 for b in raw if b not in b" \t\r\n\f\v")
    assert len(code_channel(tokens)) <= len(text_channel(tokens.data))
    normalized_channel(data, language)


# Inputs that end inside every construct the lexer knows, for every family and start state.
TRICKY = [
    b"",
    b"\\",
    b'"',
    b"'",
    b"`",
    b"/*",
    b"/",
    b"*/",
    b"#",
    b"--",
    b"--[[",
    b"{-",
    b"<!--",
    b"<!-",
    b";",
    b'"""',
    b"'''",
    b'"""abc\\',
    b'r#"',
    b'br##"x"#',
    b'r"',
    b"'a",
    b"'\\'",
    b'x = "abc\\',
    b"0x1F.e+",
    b"\xff\xfe\x00",
    b"\x80\x80abc",
    b'u8"',
    b"f'",
    b"rb'''",
    b"`unterminated ${x}",
    b"*/ code after a comment",
    b'""" inside then out',
    b"--]] ]]",
    b"-}",
    b"-->",
]


@pytest.mark.parametrize("state", list(StartState), ids=lambda s: s.name)
def test_truncated_constructs_lex_in_every_family(state: StartState) -> None:
    for language in FAMILY_LANGUAGE.values():
        for raw in TRICKY:
            for cut in range(len(raw) + 1):
                data = np.frombuffer(raw[:cut], dtype=np.uint8)
                assert_well_formed(lex(data, language, state), cut)


def test_a_snippet_starting_inside_a_comment_or_string_resumes_code_after_it() -> None:
    cases = [
        ("C", StartState.BLOCK_COMMENT, "tail of a comment */ int x = 1;", "int"),
        ("Python", StartState.TRIPLE_DOUBLE, 'rest of a docstring """\nx = 1', "x"),
        ("Python", StartState.TRIPLE_SINGLE, "rest ''' y = 2", "y"),
        ("JavaScript", StartState.TEMPLATE, "tail ${x}` + z", "+"),
    ]
    for language, state, text, first_code in cases:
        tokens = lex(encode(text), language, state)
        assert tokens.kinds[0] in (TokenKind.COMMENT, TokenKind.STRING)
        assert tokens.text(1) == first_code


# -- whitespace ---------------------------------------------------------------------------------

IDENTIFIERS = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
OPERATORS = st.sampled_from(["=", "+", "-", "*", "(", ")", "[", "]", ",", ":", "<", ">", "%", "==", "+="])
LITERALS = st.sampled_from(["0", "42", "3.5", '"text"', "'c'", '"two words"'])
TOKEN = st.one_of(IDENTIFIERS, OPERATORS, LITERALS)
LINE = st.lists(TOKEN, min_size=1, max_size=10)
PROGRAM = st.lists(LINE, min_size=1, max_size=12)
INDENT = st.text(st.sampled_from([" ", "\t"]), max_size=8)
GAP = st.text(st.sampled_from([" ", "\t"]), min_size=1, max_size=4)


def render(lines: list[list[str]], indents: list[str], gaps: list[str], comment: str) -> str:
    """Lines of tokens; `gaps` separate the tokens; each line ends with `comment` (a comment in the
    language under test, or nothing)."""
    out, g = [], 0
    for tokens, indent in zip(lines, indents):
        parts = []
        for token in tokens:
            parts.append(token)
            parts.append(gaps[g % len(gaps)])
            g += 1
        out.append(indent + "".join(parts[:-1]) + comment)
    return "\n".join(out) + "\n"


@st.composite
def reformatted(draw: st.DrawFn) -> tuple[str, str, str]:
    """(language, a program, the same program re-indented and re-spaced)."""
    language, comment = draw(
        st.sampled_from(
            [
                ("Python", "  # note: x = 1"),
                ("C", " // note"),
                ("JavaScript", " /* note */"),
                ("Go", ""),
                ("Rust", " // n"),
            ]
        )
    )
    lines = draw(PROGRAM)
    plain = render(lines, [""] * len(lines), [" "], comment)
    indents = draw(st.lists(INDENT, min_size=len(lines), max_size=len(lines)))
    gaps = draw(st.lists(GAP, min_size=1, max_size=8))
    return language, plain, render(lines, indents, gaps, comment)


@FAST
@given(reformatted())
def test_reindenting_and_respacing_leave_the_text_and_code_channels_unchanged(case) -> None:
    language, a, b = case
    ta, tb = lex(encode(a), language), lex(encode(b), language)
    assert np.array_equal(text_channel(ta.data).values, text_channel(tb.data).values)
    assert np.array_equal(code_channel(ta).values, code_channel(tb).values)


@FAST
@given(reformatted())
def test_reindenting_and_respacing_leave_the_normalized_channel_unchanged(case) -> None:
    language, a, b = case
    assert np.array_equal(
        normalized_channel(encode(a), language).values, normalized_channel(encode(b), language).values
    )


# -- renaming -----------------------------------------------------------------------------------


@st.composite
def renamed(draw: st.DrawFn) -> tuple[str, str, str]:
    """(language, a program, the same program with its identifiers renamed one-to-one)."""
    language = draw(st.sampled_from(["Python", "C", "JavaScript", "Go", "Rust", None]))
    reserved = set(keywords(family_of(language)))
    names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(lambda w: w not in reserved)
    vocabulary = draw(st.lists(names, min_size=1, max_size=8, unique=True))
    new_names = draw(st.lists(names, min_size=len(vocabulary), max_size=len(vocabulary), unique=True))
    mapping = dict(zip(vocabulary, new_names))
    fixed = [w for w in sorted(reserved)[:20] if w not in mapping] or ["0"]
    token = st.one_of(
        st.sampled_from(vocabulary), OPERATORS, st.sampled_from(["0", "42", "3.5"]), st.sampled_from(fixed)
    )
    lines = draw(st.lists(st.lists(token, min_size=1, max_size=10), min_size=1, max_size=10))
    renamed_lines = [[mapping.get(t, t) for t in line] for line in lines]
    plain = render(lines, [""] * len(lines), [" "], "")
    return language, plain, render(renamed_lines, [""] * len(lines), [" "], "")


@FAST
@given(renamed())
def test_consistent_renaming_leaves_the_normalized_channel_unchanged(case) -> None:
    language, a, b = case
    ca, cb = normalized_channel(encode(a), language), normalized_channel(encode(b), language)
    assert np.array_equal(ca.values, cb.values)


def test_member_names_keywords_and_numbers_keep_their_spelling() -> None:
    """What renaming may not change stays visible to the normalized channel."""
    base = normalized_channel(encode("if total > 10: obj.size = total\n"), "python").values
    for variant, same in [
        ("if amount > 10: obj.size = amount\n", True),  # a renamed local
        ("if total > 11: obj.size = total\n", False),  # another number
        ("if total > 10: obj.length = total\n", False),  # another member
        ("while total > 10: obj.size = total\n", False),
    ]:  # another keyword
        assert np.array_equal(normalized_channel(encode(variant), "python").values, base) is same, variant


# Text rich in what spans lines: block comments, docstrings, template and escaped strings.
SPANNING = st.lists(
    st.sampled_from(
        [
            '"""doc\nstring"""',
            "/* a\n b */",
            "`t\n${x}\n`",
            "'a\\\nb'",
            "# c\n",
            "x = 1\n",
            "\n",
            "  ",
            "'''",
            "*/",
        ]
    ),
    max_size=40,
).map("".join)


@FAST
@given(text=st.one_of(SPANNING, CODEISH, st.text(max_size=300)), language=LANGUAGES, data=st.data())
def test_a_window_lexes_alone_as_the_whole_file_lexes_there(text: str, language: str | None, data) -> None:
    """`lex_lines` (a source's window, from its stored multi-line tokens) gives exactly the
    tokens the whole file's lexing has wholly inside that window."""
    raw = encode(text)
    whole = lex(raw, language)
    starts = line_starts(raw)
    first = data.draw(st.integers(0, starts.shape[0] - 1))
    last = data.draw(st.integers(first, starts.shape[0]))
    window = (int(starts[first]), int(starts[last]) if last < starts.shape[0] else raw.shape[0])
    expected = whole.within(*window)
    got = lex_lines(raw, language, multiline_tokens(whole), window)
    for a, b in ((expected.starts, got.starts), (expected.ends, got.ends), (expected.kinds, got.kinds)):
        assert np.array_equal(a, b)
