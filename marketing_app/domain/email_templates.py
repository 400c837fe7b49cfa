"""Value objects of email templates: what validation finds and what rendering produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from marketing_app.domain.errors import InvalidInput


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template: the field (subject, preheader, html), its line."""

    field: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.field}, line {self.line}: {self.message}"


class InvalidTemplate(InvalidInput):
    """A template refused before saving or sending; `problems` lists every problem found."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}", field=first.field)
        self.problems = problems


@dataclass(frozen=True)
class RenderedEmail:
    """One recipient's email, ready for any provider."""

    subject: str
    html: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)
