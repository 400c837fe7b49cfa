"""The plain-text part of an email, from its HTML, once per campaign variant.

Written on the standard library's HTML parser rather than a converter package: inscriptis
lays tables out as text grids (email layouts are nested tables, so the text came out as padded
columns) and html2text writes Markdown under the GPL. Email text parts want little: block
elements on their own lines, links as "text (url)", images as their alt text, hidden parts
(the preheader, the pixel) left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED = {"head", "style", "script", "title", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_BLOCKS = {
    "address", "article", "blockquote", "center", "dd", "div", "dl", "dt", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_RUNS_OF_SPACES = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden_depth = 0  # > 0 inside skipped or display:none elements
        self.stack: list[bool] = []  # per open element: does it hide its content
        self.link: tuple[str, int] | None = None  # (href, where its text starts in out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag not in _VOID:
            hides = tag in _SKIPPED or bool(_HIDDEN_STYLE.search(attributes.get("style", "")))
            self.stack.append(hides)
            self.hidden_depth += hides
        if self.hidden_depth:
            return
        if tag in _BLOCKS:
            self.out.append("\n\n")
        if tag == "li":
            self.out.append("- ")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self.out.append("\n\n----\n\n")
        elif tag == "img" and attributes.get("alt", "").strip():
            self.out.append(f" {attributes['alt'].strip()} ")
        elif tag == "a":
            self.link = (attributes.get("href", "").strip(), len(self.out))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag == "a" and self.link is not None and not self.hidden_depth:
            self._close_link()
        if tag in _BLOCKS and not self.hidden_depth:
            self.out.append("\n\n")
        if self.stack:
            self.hidden_depth -= self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.out.append(_SPACES.sub(" ", data))

    def _close_link(self) -> None:
        href, start = self.link or ("", 0)
        self.link = None
        text = _SPACES.sub(" ", "".join(self.out[start:])).strip()
        if not href or href.startswith("#") or href.lower().startswith(("mailto:", "tel:")):
            return
        self.out[start:] = [f"{text} ({href})" if text and text != href else href]


def html_to_text(html: str) -> str:
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [_RUNS_OF_SPACES.sub(" ", line).strip() for line in "".join(writer.out).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
