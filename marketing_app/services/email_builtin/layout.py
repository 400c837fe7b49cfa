"""The shared frame of the built-in emails: a 600px table layout that stacks on phones.

Styles live in one <style> block: compile_email inlines them (mail clients drop <style>) and
keeps the @media rules for the clients that honour them. Pieces are joined as plain strings
because the HTML is full of braces that belong to CSS and jinja.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinTemplate:
    key: str
    name: str
    description: str
    subject: str
    preheader: str
    html: str


FONT = "Arial,Helvetica,sans-serif"
STYLE = """
body { margin: 0; padding: 0; background: #f3f4f6; }
table { border-collapse: collapse; }
img { border: 0; line-height: 100%; outline: none; text-decoration: none; }
.wrapper { width: 100%; background: #f3f4f6; }
.container { width: 600px; max-width: 600px; background: #ffffff; }
.header { padding: 20px 32px; background: #1f2937; color: #ffffff; font-family: FONT;
  font-size: 20px; line-height: 28px; font-weight: bold; }
.content { padding: 32px; font-family: FONT; font-size: 16px; line-height: 24px;
  color: #1f2937; }
h1 { margin: 0 0 16px; font-family: FONT; font-size: 26px; line-height: 32px; color: #111827; }
h2 { margin: 0 0 8px; font-family: FONT; font-size: 18px; line-height: 24px; color: #111827; }
p { margin: 0 0 16px; }
.button-cell { border-radius: 6px; background: ACCENT; }
.button { display: inline-block; padding: 14px 28px; font-family: FONT; font-size: 16px;
  font-weight: bold; color: #ffffff; text-decoration: none; }
.column { width: 50%; padding: 8px; vertical-align: top; }
.card { border: 1px solid #e5e7eb; border-radius: 6px; padding: 16px; }
.highlight { background: #f9fafb; border-left: 4px solid ACCENT; padding: 16px; }
.code { font-family: Courier, monospace; font-size: 22px; font-weight: bold; color: ACCENT;
  letter-spacing: 2px; }
.muted { color: #6b7280; font-size: 14px; line-height: 20px; }
@media only screen and (max-width: 620px) {
  .container { width: 100% !important; }
  .content { padding: 20px !important; }
  .column { display: block !important; width: 100% !important; padding: 8px 0 !important; }
}
"""


def page(title: str, body: str, *, accent: str = "#047857") -> str:
    """A whole email: head with the styles, the tenant's name as header, then `body`."""
    style = STYLE.replace("FONT", FONT).replace("ACCENT", accent)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="x-apple-disable-message-reformatting">\n'
        f"<title>{html.escape(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        '<table role="presentation" class="wrapper" width="100%" cellpadding="0" '
        'cellspacing="0" border="0">\n<tr><td align="center" style="padding:24px 8px">\n'
        '<table role="presentation" class="container" width="600" cellpadding="0" '
        'cellspacing="0" border="0">\n'
        '<tr><td class="header">{{ tenant_name }}</td></tr>\n'
        f'<tr><td class="content">\n{body}\n</td></tr>\n'
        "</table>\n</td></tr>\n</table>\n</body>\n</html>\n"
    )


def button(label: str, url: str) -> str:
    """A 'bulletproof' button: a table cell with a background, so Outlook draws it too."""
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        'style="margin:8px 0 24px">\n<tr><td class="button-cell" align="center">'
        f'<a class="button" href="{url}">{label}</a></td></tr>\n</table>'
    )


def card(title: str, text: str, url: str, link_label: str) -> str:
    return (
        f'<div class="card"><h2>{title}</h2><p class="muted">{text}</p>'
        f'<a href="{url}" style="color:#047857;font-weight:bold">{link_label}</a></div>'
    )


def two_columns(left: str, right: str) -> str:
    """Two cells side by side that stack on narrow screens (.column in the @media rule)."""
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">\n'
        f'<tr><td class="column">{left}</td><td class="column">{right}</td></tr>\n</table>'
    )


def highlight(inner: str) -> str:
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="margin:0 0 24px">\n<tr><td class="highlight">{inner}</td></tr>\n</table>'
    )
