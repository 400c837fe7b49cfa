"""The sandbox email templates run in, and the variables they may use.

Templates are written by tenants, so they run in jinja2's ImmutableSandboxedEnvironment: no
attribute starting with "_", no mutation of data, no imports. On top of that:
- a refused attribute raises at once (jinja would render it as an empty value),
- `*` and `**` are checked (no 10**9-character strings) and never folded at compile time,
- `x.name` on a mapping reads the key `name` only (a trait called "items" is not dict.items),
- `default` also replaces an empty value ("" or None): `{{ first_name | default("there") }}`
  greets a customer with no first name as "there",
- `date("%b %d")` formats dates (also ISO-date strings in traits).

Variables: the recipient's (RECIPIENT_VARIABLES), traits only as `traits.<name>` (bare trait
names would make every typo a valid, silently empty token), the tenant's and the per-message
links. Missing values are empty strings, so a template renders for every customer.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from jinja2 import Template, Undefined, nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

RECIPIENT_VARIABLES = {
    "first_name": "first name",
    "last_name": "last name",
    "customer_name": "company name, else full name",
    "email": "email address",
    "phone": "phone number",
    "last_order_date": "date of the last order",
    "order_count": "number of orders",
    "territory": "territory",
    "store": "store or location",
    "city": "city",
    "rep_name": "sales rep, barber or budtender",
    "loyalty_points": "loyalty points balance",
    "loyalty_tier": "loyalty tier",
    "traits": "custom fields: traits.<name>",
}
TENANT_VARIABLES = {"tenant_name": "business name", "postal_address": "postal address"}
LINK_VARIABLES = {"unsubscribe_url": "unsubscribe link", "preferences_url": "preferences link"}
# Inserted by compile_email into tracked links and the pixel; not for tenants to write.
MESSAGE_TOKEN = "message_token"
# Names jinja itself defines inside loops, macros and call blocks.
_JINJA_IMPLICIT = {"loop", "caller", "varargs", "kwargs", "super", "self"}
KNOWN_NAMES = frozenset(
    {*RECIPIENT_VARIABLES, *TENANT_VARIABLES, *LINK_VARIABLES, *_JINJA_IMPLICIT}
)
# Variables the same for every recipient of a compiled email.
CONSTANT_NAMES = frozenset({"tenant_name", "postal_address", "footer_reason"})
MAX_SEQUENCE_PRODUCT = 100_000  # characters or items a `*` may produce
MAX_EXPONENT = 64
MAX_POWER_BASE = 2**64
MAX_RANGE = 1_000


class EmailDate(date):
    """A date that prints as "March 5, 2025" (`| date(...)` picks another format)."""

    def __str__(self) -> str:
        return f"{self:%B} {self.day}, {self.year}"


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    if isinstance(value, Undefined) or value is None or value == "":
        return default_value
    if boolean and not value:
        return default_value
    return value


def _format_date(value: Any, fmt: str = "%B %d, %Y") -> str:
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, date):
        return value.strftime(fmt)
    return "" if isinstance(value, Undefined) or value in (None, "") else str(value)


def _small_range(*args: int) -> range:
    found = range(*args)
    if len(found) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} items in email templates")
    return found


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


class EmailSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"'{attribute}' is not available in email templates")

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _too_big_power(left, right):
            raise SecurityError("that power makes too big a number")
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        return super().call_binop(context, operator, left, right)


def _too_big_power(base: Any, exponent: Any) -> bool:
    numbers = isinstance(base, int | float) and isinstance(exponent, int | float)
    return numbers and (abs(exponent) > MAX_EXPONENT or abs(base) > MAX_POWER_BASE)


def _check_repeat(sequence: Any, times: Any) -> None:
    repeated = isinstance(sequence, str | list | tuple) and isinstance(times, int)
    if repeated and len(sequence) * times > MAX_SEQUENCE_PRODUCT:
        raise SecurityError("that repetition makes too long a value")


def _make_env(*, autoescape: bool) -> EmailSandbox:
    env = EmailSandbox(autoescape=autoescape, finalize=_none_as_empty, keep_trailing_newline=True)
    env.filters.update(default=_default, d=_default, date=_format_date)
    env.globals["range"] = _small_range
    return env


HTML_ENV = _make_env(autoescape=True)
TEXT_ENV = _make_env(autoescape=False)  # subject, preheader text and the plain-text part
GLOBAL_NAMES = frozenset(HTML_ENV.globals)


def render_chunks(template: Template, variables: dict[str, Any]) -> Any:
    """What `template` writes, chunk by chunk, for variables that already hold the globals
    (jinja's own new_context merges the globals in on every call: most of the time of a
    small template)."""
    context = Context(template.environment, variables, template.name, template.blocks)
    return template.root_render_func(context)


def render_fast(template: Template, variables: dict[str, Any]) -> str:
    try:
        return "".join(render_chunks(template, variables))
    except Exception:
        template.environment.handle_exception()


def one_line(subject: str) -> str:
    """Subjects are header values: recipient data never adds a line break to them."""
    return subject.replace("\r", " ").replace("\n", " ")


def referenced_names(node: nodes.Node) -> set[str]:
    """The variables an expression or template reads (the node itself included)."""
    found = (
        [node, *node.find_all(nodes.Name)]
        if isinstance(node, nodes.Name)
        else node.find_all(nodes.Name)
    )
    return {name.name for name in found if name.ctx == "load"}


# Template code is swapped for plain alphanumeric markers while the HTML is parsed and
# rewritten (CSS inlining, link tracking, text part): parsers escape `>` and quotes inside
# `{{ ... }}` and would otherwise break the expressions.
_TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_MARKER = re.compile(r"mkjx(\d+)xjkm")


def protect_template_code(source: str, spans: list[str] | None = None) -> tuple[str, list[str]]:
    """(source with markers instead of template code, the code in marker order); markers
    continue the numbering of `spans` when given."""
    spans = [] if spans is None else spans

    def swap(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"mkjx{len(spans) - 1}xjkm"

    return _TEMPLATE_CODE.sub(swap, source), spans


def restore_template_code(text: str, spans: list[str]) -> str:
    return _MARKER.sub(lambda match: spans[int(match.group(1))], text)


def marker_order(text: str) -> list[int]:
    return [int(found) for found in _MARKER.findall(text)]


_LITERAL_OPENING = re.compile(r"\{(?=[{%#])")


def keep_braces_literal(text: str) -> str:
    """Braces that were never template code ("&#123;&#123;" decoded by a parser) stay text."""
    return _LITERAL_OPENING.sub('{{ "{" }}', text)
