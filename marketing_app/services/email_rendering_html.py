"""Compile-time HTML work on a template whose code is swapped for markers (see
email_rendering_env.protect_template_code): preheader, footer, CSS inlining, tracked links
with UTM parameters, open pixel. Runs once per campaign variant, never per recipient.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import css_inline

from marketing_app.services.email_rendering_env import MESSAGE_TOKEN, marker_order

# Keep @media rules in a <style> tag (responsive layouts need them); never fetch stylesheets.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)
_BODY_CLOSE = re.compile(r"</body\s*>", re.I)
# After inlining every attribute is double-quoted, with `&` and `"` escaped.
_ANCHOR_HREF = re.compile(r'(<a\b[^>]*?\shref=")([^"]*)(")', re.I)
_TRACKABLE = re.compile(r"^https?://", re.I)
TOKEN_CODE = "{{ " + MESSAGE_TOKEN + " }}"
_HAS_MARKER = re.compile(r"mkjx\d+xjkm")
_MARKER_NUMBER = re.compile(r"mkjx(\d+)xjkm")
_TABLE_PARTS = {"table", "tbody", "thead", "tfoot", "tr"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_ADDRESS_AFTER_NAME = "{{ (' \u00b7 ' ~ postal_address) if postal_address else '' }}"
_MOVED_MESSAGE = (
    "Template tags between table rows are moved by mail clients: put {% ... %} tags inside a "
    "table cell (<td>) or around the whole table."
)
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
_HIDDEN = "display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;line-height:1px"
# Spacers after the preheader keep mail clients from pulling body text into the preview line.
_PREVIEW_SPACER = "&#847;&zwnj;&nbsp;" * 40


class LayoutChanged(ValueError):
    """HTML parsing moved template code (a tag between table rows, outside any cell)."""


@dataclass
class MarkedHtml:
    """HTML with markers, the template code they stand for, and what tracking found."""

    html: str
    code: list[str]
    links: list[str] = field(default_factory=list)

    def marker(self, template_code: str) -> str:
        self.code.append(template_code)
        return f"mkjx{len(self.code) - 1}xjkm"


def _insert_after_body_open(html: str, addition: str) -> str:
    match = _BODY_OPEN.search(html)
    if match is None:
        return addition + html
    return html[: match.end()] + addition + html[match.end() :]


def _insert_before_body_close(html: str, addition: str) -> str:
    matches = list(_BODY_CLOSE.finditer(html))
    if not matches:
        return html + addition
    at = matches[-1].start()
    return html[:at] + addition + html[at:]


def add_preheader(page: MarkedHtml, marked_preheader: str) -> None:
    """The preview line: hidden text first in the body (the inbox shows it after the subject)."""
    if not marked_preheader.strip():
        return
    text = html_lib.escape(marked_preheader, quote=False)
    block = f'<div style="{_HIDDEN}">{text}{_PREVIEW_SPACER}</div>'
    page.html = _insert_after_body_open(page.html, block)


def add_footer(page: MarkedHtml, *, unsubscribe: bool, preferences: bool) -> None:
    """Why they get this, the tenant's postal address and (marketing mail) the way out."""
    mark = page.marker
    links = []
    if preferences:
        links.append(f'<a href="{mark("{{ preferences_url }}")}" style="color:#6b7280">'
                     "Update your preferences</a>")  # fmt: skip
    if unsubscribe:
        links.append(f'<a href="{mark("{{ unsubscribe_url }}")}" style="color:#6b7280">'
                     "Unsubscribe</a>")  # fmt: skip
    footer = (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
        '<tr><td align="center" style="padding:24px 16px;font-family:Arial,Helvetica,sans-serif;'
        'font-size:12px;line-height:18px;color:#6b7280">'
        f'<p style="margin:0 0 8px;color:#6b7280">{mark("{{ footer_reason }}")}</p>'
        f'<p style="margin:0 0 8px;color:#6b7280">{mark("{{ tenant_name }}")}'
        f"{mark(_ADDRESS_AFTER_NAME)}</p>"
        f'<p style="margin:0;color:#6b7280">{" &middot; ".join(links)}</p>'
        "</td></tr></table>"
    )
    page.html = _insert_before_body_close(page.html, footer)


class _TableTextFinder(HTMLParser):
    """Finds the first marker written straight inside a table, outside any cell: HTML
    parsers (and mail clients) move such text in front of the table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.found: int | None = None  # the marker's number

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        inside_table = self.open and self.open[-1] in _TABLE_PARTS
        if self.found is None and inside_table and (marker := _MARKER_NUMBER.search(data)):
            self.found = int(marker.group(1))


def misplaced_code(page: MarkedHtml) -> int | None:
    """The index in `page.code` of template code between table rows, if any."""
    finder = _TableTextFinder()
    finder.feed(page.html)
    finder.close()
    return finder.found


def inline_css(page: MarkedHtml) -> None:
    """Styles from <style> into style attributes; refuses layouts whose code parsing moves."""
    if misplaced_code(page) is not None:
        raise LayoutChanged(_MOVED_MESSAGE)
    before = marker_order(page.html)
    page.html = _INLINER.inline(page.html)
    if marker_order(page.html) != before:
        raise LayoutChanged(_MOVED_MESSAGE)


def with_utm(url: str, utm: dict[str, str]) -> str:
    """The URL with the campaign's UTM parameters added (ones the link sets itself win)."""
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    missing = {k: v for k, v in utm.items() if k in UTM_KEYS and v and k not in present}
    if not missing:
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if parts.query else ("" if base.endswith("?") else "?")
    return f"{base}{joiner}{urlencode(missing)}{hash_mark}{fragment}"


def track_links(page: MarkedHtml, *, tracking_base_url: str, utm: dict[str, str]) -> None:
    """Every http(s) link goes through the click redirect; `page.links[i]` is where link i
    leads (with UTM parameters). Links holding template code stay as they are."""
    token = page.marker(TOKEN_CODE)
    redirect_base = html_lib.escape(f"{tracking_base_url}/t/c/", quote=True)

    def rewrite(match: re.Match[str]) -> str:
        url = html_lib.unescape(match.group(2)).strip()
        trackable = _TRACKABLE.match(url) and not url.startswith(tracking_base_url)
        if not trackable or _HAS_MARKER.search(url):
            return match.group(0)
        page.links.append(with_utm(url, utm))
        tracked = f"{redirect_base}{token}/{len(page.links) - 1}"
        return f"{match.group(1)}{tracked}{match.group(3)}"

    page.html = _ANCHOR_HREF.sub(rewrite, page.html)


def add_open_pixel(page: MarkedHtml, *, tracking_base_url: str) -> None:
    token = page.marker(TOKEN_CODE)
    src = html_lib.escape(f"{tracking_base_url}/t/o/", quote=True) + f"{token}.gif"
    pixel = (
        f'<img src="{src}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px;overflow:hidden">'
    )
    page.html = _insert_before_body_close(page.html, pixel)
