"""The built-in email templates a tenant can start from (copied into their own templates).

Each is a responsive table-layout email with a subject and a preheader, personalized with
tokens and defaults, and free of recipient-dependent {% if %}/{% for %}, so campaigns built on
them keep the fast substitution path (services.email_rendering_substitution). Links point at
example.com pages the tenant replaces with their own.
"""

from __future__ import annotations

from marketing_app.services.email_builtin.layout import BuiltinTemplate

__all__ = ["BUILTIN_TEMPLATES", "BuiltinTemplate"]


def _registry() -> dict[str, BuiltinTemplate]:
    from marketing_app.services.email_builtin import lifecycle, promotions

    templates = [*promotions.TEMPLATES, *lifecycle.TEMPLATES]
    return {template.key: template for template in templates}


BUILTIN_TEMPLATES: dict[str, BuiltinTemplate] = _registry()
