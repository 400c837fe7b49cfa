"""Template checks before saving: syntax errors, unknown tokens and sandbox escapes, by line.

Each field (subject, preheader, html) is checked on its own, so a line number points into the
text the marketer typed. A template that passes is also rendered once with sample data, which
catches what only running finds (a filter given the wrong kind of value).
"""

from __future__ import annotations

import traceback
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SecurityError

from marketing_app.domain.campaigns import TEMPLATE_LIMIT
from marketing_app.domain.email_templates import TemplateProblem
from marketing_app.services.email_rendering_env import (
    GLOBAL_NAMES,
    HTML_ENV,
    KNOWN_NAMES,
    LINK_VARIABLES,
    TEXT_ENV,
    EmailSandbox,
)
from marketing_app.services.email_rendering_recipients import SAMPLE_RECIPIENT

MAX_SUBJECT = 300
MAX_PREHEADER = 300
MAX_HTML = TEMPLATE_LIMIT  # what a campaign variant holds
_LIMITS = {"subject": MAX_SUBJECT, "preheader": MAX_PREHEADER, "html": MAX_HTML}
_NOT_AVAILABLE = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
SAMPLE_VARIABLES: dict[str, Any] = {
    **SAMPLE_RECIPIENT.variables(),
    "tenant_name": "Sample Shop",
    "postal_address": "1 Main St, Raleigh, NC 27601",
    **{name: "https://example.com/t/sample" for name in LINK_VARIABLES},
}


def validate_template(subject: str, preheader: str, html: str) -> list[TemplateProblem]:
    """Every problem of the three fields; an empty list means the template can be saved."""
    problems: list[TemplateProblem] = []
    for name, source, env in (
        ("subject", subject, TEXT_ENV),
        ("preheader", preheader, TEXT_ENV),
        ("html", html, HTML_ENV),
    ):
        problems += field_problems(name, source or "", env)
    if not (subject or "").strip():
        problems.insert(0, TemplateProblem("subject", 1, "The subject is empty."))
    if not (html or "").strip():
        problems.append(TemplateProblem("html", 1, "The email has no content."))
    return problems


def field_problems(name: str, source: str, env: EmailSandbox) -> list[TemplateProblem]:
    if "\x00" in source:
        line = source.count("\n", 0, source.index("\x00")) + 1
        return [TemplateProblem(name, line, "Contains a NUL character.")]
    if len(source) > _LIMITS[name]:
        return [TemplateProblem(name, 1, f"Longer than {_LIMITS[name]:,} characters.")]
    if name != "html" and ("\n" in source or "\r" in source):
        return [TemplateProblem(name, 1, "Must be a single line.")]
    try:
        env.compile(source)  # parses, and knows the filter and test names
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(name, exc.lineno or 1, _syntax_message(exc))]
    problems = _tree_problems(name, tree)
    return problems or _trial_render_problems(name, source, env)


def _syntax_message(exc: TemplateSyntaxError) -> str:
    return f"Template syntax error: {exc.message or exc}"


def _tree_problems(name: str, tree: nodes.Template) -> list[TemplateProblem]:
    problems = [
        TemplateProblem(name, node.lineno, "Includes and imports are not available.")
        for node in tree.find_all(_NOT_AVAILABLE)
    ]
    problems += _unsafe_access(name, tree)
    declared = _declared_names(tree)
    for node in tree.find_all(nodes.Name):
        known = node.name in KNOWN_NAMES or node.name in GLOBAL_NAMES or node.name in declared
        if node.ctx == "load" and not known:
            problems.append(TemplateProblem(name, node.lineno, _unknown_message(node.name)))
    return sorted(set(problems), key=lambda problem: problem.line)


def _unknown_message(token: str) -> str:
    return (
        f"Unknown token '{token}'. Customer fields are names like first_name; "
        f"custom fields are written traits.{token}."
    )


def _declared_names(tree: nodes.Template) -> set[str]:
    """Names the template sets itself: loop targets, {% set %}, macro names and arguments."""
    declared = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    declared |= {node.name for node in tree.find_all(nodes.Macro)}
    return declared


def _unsafe_access(name: str, tree: nodes.Template) -> list[TemplateProblem]:
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        key = node.attr if isinstance(node, nodes.Getattr) else _constant_key(node)
        if isinstance(key, str) and key.startswith("_"):
            message = f"'{key}' is not available in email templates."
            found.append(TemplateProblem(name, node.lineno, message))
    return found


def _constant_key(node: nodes.Getitem) -> Any:
    return node.arg.value if isinstance(node.arg, nodes.Const) else None


def _trial_render_problems(name: str, source: str, env: EmailSandbox) -> list[TemplateProblem]:
    try:
        env.from_string(source).render(SAMPLE_VARIABLES)
    except SecurityError as exc:
        return [TemplateProblem(name, _error_line(exc), f"Not allowed: {exc}")]
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        return [TemplateProblem(name, _error_line(exc), f"Cannot render: {exc}")]
    return []


def _error_line(exc: BaseException) -> int:
    """The template line jinja's rewritten traceback points at (1 when none does)."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == "<template>" and frame.lineno
    ]
    return lines[-1] if lines else 1
