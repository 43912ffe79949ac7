"""Gmail's search language parsed into one syntax tree (`parse_query`), run on the index and mapped out.

The grammar: terms separated by spaces are AND-ed (`AND` may be written), `OR` (upper case) between
terms, `-` before a term or group negates it, `( )` groups, `{ }` is an OR group, `"..."` a phrase,
`word AROUND 5 word` proximity, and `operator:value` where the value may be a word, a phrase or a
group scoped to the operator (`subject:(dinner movie)`, `from:{ada bob}`). The operators are those
of `query_terms`; a construct this server cannot run (an unknown operator, `is:snoozed`,
`has:drive`, …) is a `QueryError` naming it, never a silently empty answer. Relative dates
(`newer_than:2d`) stay relative in the tree: the clock is given when the tree is run or mapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .query_terms import And, Anywhere, LabelTerm, Near, Node, Not, Or, QueryError, Text, term

__all__ = ["MAX_DEPTH", "MAX_TERMS", "Query", "QueryError", "parse_query"]

MAX_DEPTH = 32  # nested groups and negations
MAX_TERMS = 100  # leaves: each becomes an SQL condition
_TOKEN = re.compile(r'\s+|(?P<open>[({])|(?P<close>[)}])|"(?P<phrase>[^"]*)(?P<end>"?)|(?P<word>[^\s(){}"]+)')
_OPERATOR = re.compile(r"(?P<op>[A-Za-z_][A-Za-z0-9_]*):(?P<value>.*)", re.S)


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" "{" ")" "}" "phrase" "word"
    text: str
    glued: bool  # no space before it: a value that belongs to the operator just before


@dataclass
class Query:
    """A parsed search: its text and its syntax tree (None for the empty query: every message)."""

    text: str
    tree: Node | None
    leaves: int = field(default=0)

    def names(self) -> set[str]:
        """The label keys the tree asks for (not under a `-`): whether spam and trash were asked for."""
        return _label_keys(self.tree)


def _label_keys(node: Node | None) -> set[str]:
    if node is None or isinstance(node, Not):
        return set()
    keys = {node.key} if isinstance(node, LabelTerm | Anywhere) else set()
    for child in getattr(node, "children", ()):
        keys |= _label_keys(child)
    return keys


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    glued = False
    for match in _TOKEN.finditer(text):
        if match.group(0).isspace():
            glued = False
            continue
        if match.group("open") or match.group("close"):
            tokens.append(_Token(match.group(0), match.group(0), glued))
        elif match.group("phrase") is not None:
            if not match.group("end"):
                raise QueryError(f'the quote in {text!r} is not closed: add the closing "')
            tokens.append(_Token("phrase", match.group("phrase"), glued))
        else:
            tokens.append(_Token("word", match.group("word"), glued))
        glued = True
    return tokens


class _Parser:
    """Recursive descent over the tokens; `field` scopes bare words inside `op:( ... )`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.leaves = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.disjunction(None, 0)
        if (extra := self.peek()) is not None:
            raise QueryError(f"unexpected {extra.text!r} in {self.text!r}: check the brackets")
        return node

    def disjunction(self, scope: str | None, depth: int) -> Node:
        parts = [self.conjunction(scope, depth)]
        while (token := self.peek()) is not None and token.kind == "word" and token.text == "OR":
            self.take()
            parts.append(self.conjunction(scope, depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self, scope: str | None, depth: int) -> Node:
        parts: list[Node] = []
        while (token := self.peek()) is not None and token.kind not in (")", "}"):
            if token.kind == "word" and token.text == "OR":
                if not parts:
                    raise QueryError(f"OR needs a term on each side in {self.text!r}")
                break
            if token.kind == "word" and token.text == "AND":
                self.take()
                continue
            if token.kind == "word" and token.text == "AROUND":
                parts.append(self.around(parts.pop() if parts else None))
                continue
            parts.append(self.unary(scope, depth))
        if not parts:
            raise QueryError(f"an operator or group in {self.text!r} has nothing to apply to: add a term")
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def around(self, left: Node | None) -> Node:
        self.take()
        distance = self.peek()
        if distance is None or distance.kind != "word" or not distance.text.isdigit():
            raise QueryError("AROUND needs a number of words, e.g. holiday AROUND 10 vacation")
        self.take()
        right = self.peek()
        if not isinstance(left, Text) or left.field or right is None or right.kind not in ("word", "phrase"):
            raise QueryError("AROUND joins two plain words or phrases, e.g. holiday AROUND 10 vacation")
        self.take()
        return Near(left.value, right.text, min(int(distance.text), 1000))

    def unary(self, scope: str | None, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise QueryError(f"the query nests deeper than {MAX_DEPTH} levels: simplify it")
        token = self.take()
        if token.kind == "word" and token.text.startswith("-") and len(token.text) > 1:
            self.tokens.insert(self.at, _Token("word", token.text[1:], True))
            return Not(self.unary(scope, depth + 1))
        if token.kind == "word" and token.text == "-" and (after := self.peek()) is not None and after.glued:
            return Not(self.unary(scope, depth + 1))
        if token.kind in ("(", "{"):
            return self.group(token.kind, scope, depth + 1)
        if token.kind == "phrase":
            return self.leaf(scope or "", token.text, True)
        operator = _OPERATOR.fullmatch(token.text)
        if operator is None or scope is not None and not operator.group("value"):
            return self.leaf(scope or "", token.text, False)
        return self.operator(operator.group("op").lower(), operator.group("value"), depth)

    def operator(self, op: str, value: str, depth: int) -> Node:
        if value:
            return self.leaf(op, value, False)
        following = self.peek()
        if following is None or not following.glued or following.kind not in ("phrase", "(", "{"):
            raise QueryError(f"{op}: needs a value, e.g. {op}:something (or quote the text to search for it)")
        self.take()
        if following.kind == "phrase":
            return self.leaf(op, following.text, True)
        return self.group(following.kind, op, depth + 1)

    def group(self, kind: str, scope: str | None, depth: int) -> Node:
        closing = ")" if kind == "(" else "}"
        if kind == "{":
            items: list[Node] = []
            while (token := self.peek()) is not None and token.kind != "}":
                items.append(self.unary(scope, depth))
            node: Node = items[0] if len(items) == 1 else Or(tuple(items))
            if not items:
                raise QueryError(f"an empty {{}} group in {self.text!r}: put terms inside or remove it")
        else:
            node = self.disjunction(scope, depth)
        token = self.peek()
        if token is None or token.kind != closing:
            raise QueryError(f"a {kind!r} in {self.text!r} is not closed: add {closing!r}")
        self.take()
        return node

    def leaf(self, op: str, value: str, quoted: bool) -> Node:
        self.leaves += 1
        if self.leaves > MAX_TERMS:
            raise QueryError(f"the query has more than {MAX_TERMS} terms: split it into several searches")
        return term(op, value, quoted)


def parse_query(text: str) -> Query:
    """Parse a Gmail search; raise `QueryError` naming anything this server cannot run."""
    parser = _Parser(text)
    tree = parser.parse()
    return Query(text=text, tree=tree, leaves=parser.leaves)
