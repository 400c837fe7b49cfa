"""The substitution form of a compiled email: one text with keys, and values per recipient.

SendGrid sends up to 1,000 personalizations per request, each with `substitutions` that it
replaces in the subject and the content. That needs the email as a text in which every
recipient-dependent value is a key (`-mk3-`; `-mktok-` for the message token) and, per
recipient, only those values: a few jinja expression evaluations instead of three renders.

Only templates that are pure output qualify: literal text and `{{ expressions }}` (names,
traits, filters, inline conditionals). A `{% if %}`, `{% for %}` or `{% set %}` changes the
shape of the text per recipient, so those templates have no substitution form and are
rendered per recipient. The html part's values are HTML-escaped, the text and subject parts'
are not, so an expression used in both gets two keys; it is evaluated once, and its html value
is the escaped text value when that is what autoescaping would write (see `_escape_derivable`).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jinja2 import Template, nodes
from markupsafe import escape

from marketing_app.services.email_rendering_env import (
    CONSTANT_NAMES,
    HTML_ENV,
    MESSAGE_TOKEN,
    TEXT_ENV,
    EmailSandbox,
    one_line,
    referenced_names,
    render_chunks,
)
from marketing_app.services.email_rendering_recipients import SAMPLE_RECIPIENT, RecipientContext

if TYPE_CHECKING:
    from marketing_app.services.email_rendering import CompiledEmail

_MODES: tuple[tuple[str, EmailSandbox], ...] = (
    ("subject", TEXT_ENV),
    ("html", HTML_ENV),
    ("text", TEXT_ENV),
)
_RECIPIENT_NAMES = frozenset(SAMPLE_RECIPIENT.variables())  # each the attribute of its name
Piece = str | nodes.Expr  # literal text, or an expression to evaluate per recipient


@dataclass(frozen=True)
class _ModeValues:
    """The keys of one part and, per key, which evaluated expression fills it."""

    mode: str
    keys: tuple[str, ...]
    expressions: tuple[nodes.Expr, ...]


# Filters whose result does not depend on autoescaping and is never markup: an expression
# made only of these, names, constants and operators writes in the html part exactly the
# escaped text it writes in the text part (`~` joins as markup only when a piece is markup).
_PLAIN_FILTERS = frozenset(
    {"default", "d", "date", "upper", "lower", "title", "capitalize", "trim", "string",
     "int", "float", "round", "abs", "length", "count", "first", "last", "truncate", "center"}
)  # fmt: skip
_PLAIN_NODES = (
    nodes.Name, nodes.Const, nodes.Getattr, nodes.Getitem, nodes.CondExpr, nodes.Compare,
    nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Concat, nodes.BinExpr,
    nodes.UnaryExpr, nodes.Test, nodes.Tuple, nodes.List, nodes.Keyword, nodes.Slice,
)  # fmt: skip


def _escape_derivable(expr: nodes.Expr) -> bool:
    return all(
        isinstance(node, _PLAIN_NODES)
        or (isinstance(node, nodes.Filter) and node.name in _PLAIN_FILTERS)
        for node in [expr, *expr.find_all(nodes.Node)]
    )


@dataclass(frozen=True)
class _Evaluation:
    """Every expression of the email evaluated once per recipient: those of the text parts
    (and the html expressions whose html value is their escaped text) by one text template,
    the other html expressions by one html template; each key names its chunk."""

    text: Template | None
    html: Template | None
    fills: tuple[tuple[str, bool, int, Any], ...]  # key, from the html template, chunk, clean
    names: frozenset[str]  # the variables the expressions read

    def values(self, variables: dict[str, Any]) -> dict[str, str]:
        text = list(render_chunks(self.text, variables)) if self.text else []
        html = list(render_chunks(self.html, variables)) if self.html else []
        return {
            key: clean((html if from_html else text)[index])
            for key, from_html, index, clean in self.fills
        }


_HTML_SPECIAL = re.compile("[&<>\"']").search


def _escaped(value: str) -> str:
    """As autoescaping writes `value`; most values (names, stores, defaults) have nothing to
    escape, and looking is a quarter of the cost of escaping."""
    return str(escape(value)) if _HTML_SPECIAL(value) else value


def _evaluation(parts: tuple[_ModeValues, ...]) -> _Evaluation:
    text_exprs: dict[str, int] = {}
    html_exprs: dict[str, int] = {}
    text_nodes: list[nodes.Expr] = []
    html_nodes: list[nodes.Expr] = []
    fills = []
    for part in parts:
        for key, expr in zip(part.keys, part.expressions, strict=True):
            from_html = part.mode == "html" and not _escape_derivable(expr)
            found, listed = (html_exprs, html_nodes) if from_html else (text_exprs, text_nodes)
            if repr(expr) not in found:
                found[repr(expr)] = len(listed)
                listed.append(expr)
            if part.mode == "subject":
                clean = one_line
            elif part.mode == "html" and not from_html:
                clean = _escaped
            else:
                clean = str
            fills.append((key, from_html, found[repr(expr)], clean))
    return _Evaluation(
        text=_one_expression_template(TEXT_ENV, text_nodes) if text_nodes else None,
        html=_one_expression_template(HTML_ENV, html_nodes) if html_nodes else None,
        fills=tuple(fills),
        names=frozenset().union(*(referenced_names(e) for e in text_nodes + html_nodes)),
    )


def variables_builder(
    compiled: CompiledEmail, names: frozenset[str]
) -> Callable[[RecipientContext, str], dict[str, Any]]:
    """`compiled.variables(recipient, token)` holding only `names`: a form's expressions read
    a few of some thirty variables, and building them all was a fifth of a recipient's values.
    The same precedence: the message's own, then tenant constants and jinja's globals, then
    the recipient's."""
    per_message = names & compiled.message_variables("").keys()
    shared = {
        name: compiled.shared_variables[name]
        for name in names - per_message
        if name in compiled.shared_variables
    }
    own = tuple((names - per_message - shared.keys()) & _RECIPIENT_NAMES)

    def build(recipient: RecipientContext, message_token: str) -> dict[str, Any]:
        found = {name: getattr(recipient, name) for name in own}
        found.update(shared)
        if per_message:
            links = compiled.message_variables(message_token)
            found.update({name: links[name] for name in per_message})
        return found

    return build


@dataclass
class SubstitutionEmail:
    subject: str
    html: str
    text: str
    token_key: str
    compiled: CompiledEmail
    parts: tuple[_ModeValues, ...]
    evaluation: _Evaluation
    variables: Callable[[RecipientContext, str], dict[str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.variables = variables_builder(self.compiled, self.evaluation.names)

    @property
    def keys(self) -> list[str]:
        return [self.token_key, *(key for part in self.parts for key in part.keys)]

    def values(self, recipient: RecipientContext, message_token: str) -> dict[str, str]:
        """Key -> value for one recipient: what SendGrid's `substitutions` take."""
        variables = self.variables(recipient, message_token)
        return {self.token_key: message_token, **self.evaluation.values(variables)}

    def headers(self, message_token: str) -> dict[str, str]:
        return self.compiled.headers(message_token)

    def fill(self, values: dict[str, str]) -> tuple[str, str, str]:
        """(subject, html, text) with the keys replaced, as SendGrid does (one pass)."""
        pattern = re.compile(
            "|".join(re.escape(key) for key in sorted(values, key=len, reverse=True))
        )

        def replace(text: str) -> str:
            return pattern.sub(lambda match: values[match.group(0)], text)

        return replace(self.subject), replace(self.html), replace(self.text)


def _pieces(source: str, env: EmailSandbox) -> list[Piece] | None:
    """The output pieces of a template, or None when it has anything but output."""
    tree = env.parse(source)
    if not all(isinstance(node, nodes.Output) for node in tree.body):
        return None
    return [
        child.data if isinstance(child, nodes.TemplateData) else child
        for node in tree.body
        for child in node.nodes
    ]


def _one_expression_template(env: EmailSandbox, expressions: list[nodes.Expr]) -> Template:
    """A template yielding each expression's output as its own chunk, as the full template
    would write it (same escaping and finalize)."""
    tree = nodes.Template([nodes.Output([expr], lineno=1) for expr in expressions], lineno=1)
    tree.set_environment(env)
    return env.from_string(tree)


def _constant_text(expr: nodes.Expr, env: EmailSandbox, constants: dict[str, Any]) -> str:
    return _one_expression_template(env, [expr]).render(constants)


def _choose_prefix(literals: list[str]) -> str:
    """A key prefix that no literal text of the email contains."""
    prefix = "mk"
    while any(f"-{prefix}" in literal for literal in literals):
        prefix += "q"
    return prefix


def _resolve_constants(
    pieces: list[Piece], mode: str, env: EmailSandbox, constants: dict[str, Any]
) -> list[Piece]:
    """Expressions of tenant constants only (tenant_name, ...) become literal text."""
    resolved: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) or not referenced_names(piece) <= CONSTANT_NAMES:
            resolved.append(piece)
            continue
        text = _constant_text(piece, env, constants)
        resolved.append(one_line(text) if mode == "subject" else text)
    return resolved


def _token_links(base_url: str, token_key: str, *, escaped: bool) -> dict[str, str]:
    """Variables that are the token in a fixed URL: written with the token key, so they need
    no value of their own."""
    base = html_lib.escape(base_url, quote=True) if escaped else base_url
    return {
        MESSAGE_TOKEN: token_key,
        "unsubscribe_url": f"{base}/t/u/{token_key}",
        "preferences_url": f"{base}/t/p/{token_key}",
    }


@dataclass
class _KeyedText:
    """Builds one part's text with keys, numbering keys across all parts."""

    prefix: str
    token_key: str
    numbered: dict[tuple[str, str], str]

    def build(self, mode: str, env: EmailSandbox, pieces: list[Piece], base_url: str):
        token_links = _token_links(base_url, self.token_key, escaped=env is HTML_ENV)
        out: list[str] = []
        expressions: list[nodes.Expr] = []
        keys: list[str] = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, nodes.Name) and piece.name in token_links:
                out.append(token_links[piece.name])
            else:
                identity = (mode, repr(piece))
                if identity not in self.numbered:
                    self.numbered[identity] = f"-{self.prefix}{len(self.numbered)}-"
                    expressions.append(piece)
                    keys.append(self.numbered[identity])
                out.append(self.numbered[identity])
        return "".join(out), _ModeValues(mode, tuple(keys), tuple(expressions))


def build_substitution(compiled: CompiledEmail) -> SubstitutionEmail | None:
    sources = {
        "subject": compiled.subject_source,
        "html": compiled.html_source,
        "text": compiled.text_source,
    }
    by_mode: dict[str, list[Piece]] = {}
    for mode, env in _MODES:
        pieces = _pieces(sources[mode], env)
        if pieces is None:
            return None
        by_mode[mode] = _resolve_constants(pieces, mode, env, compiled.constants)
    literals = [piece for pieces in by_mode.values() for piece in pieces if isinstance(piece, str)]
    prefix = _choose_prefix(literals)
    keyed = _KeyedText(prefix=prefix, token_key=f"-{prefix}tok-", numbered={})
    texts, parts = {}, []
    for mode, env in _MODES:
        texts[mode], part = keyed.build(mode, env, by_mode[mode], compiled.tracking_base_url)
        parts.append(part)
    return SubstitutionEmail(
        subject=texts["subject"],
        html=texts["html"],
        text=texts["text"],
        token_key=keyed.token_key,
        compiled=compiled,
        parts=tuple(parts),
        evaluation=_evaluation(tuple(parts)),
    )
