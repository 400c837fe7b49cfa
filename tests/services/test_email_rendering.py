"""Email rendering: tokens, sandbox, checks by line, footer, tracking, text part, headers and
the substitution form SendGrid batching uses."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from html import unescape
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketing_app.domain.email_templates import InvalidTemplate
from marketing_app.models import Contact
from marketing_app.services.email_rendering import (
    RecipientContext,
    compile_email,
    recipient_context,
    validate_template,
)
from marketing_app.services.email_rendering_substitution import variables_builder
from marketing_app.services.email_tokens import message_token, read_message_token

BASE = "https://links.example.com"
TENANT = uuid.uuid4()
UTM = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring-sale"}
HTML = """<!DOCTYPE html>
<html><head><style>
p { color: #123456; }
.cta { background: #0a7d4f; }
@media only screen and (max-width: 600px) { .wide { width: 100% !important; } }
</style></head><body>
<table class="wide"><tr><td>
<p>Hi {{ first_name | default("there") }} from {{ city }}!</p>
<p>Your tier: {{ traits.tier | default("Member") | upper }}</p>
<a class="cta" href="https://shop.example.com/specials?sort=new&amp;page=2#top">Shop the
specials</a>
<a href="http://blog.example.com/post?utm_source=blog">Read the blog</a>
<a href="mailto:help@example.com">Email us</a>
<img src="https://img.example.com/logo.png" alt="Logo" title="{{ customer_name }}">
</td></tr></table>
</body></html>
"""


def _compile(html=HTML, subject="Deals for {{ first_name | default('you') }}", **overrides):
    options = {
        "preheader": "Only this week at {{ tenant_name }}",
        "tenant_name": "Leaf & Co",
        "postal_address": "12 Main St\nRaleigh, NC 27601",
        "tracking_base_url": BASE,
        "utm": UTM,
        "unsubscribe_mail_domain": "mail.example.com",
    }
    return compile_email(subject=subject, html=html, **(options | overrides))


def _recipient(**fields) -> RecipientContext:
    return RecipientContext(contact_id=1, email="ann@example.com", **fields)


TOKEN = message_token(TENANT, 314)


def test_tokens_defaults_and_traits_fill_in():
    compiled = _compile()
    ann = compiled.render(
        _recipient(first_name="Ann", city="Durham", traits={"tier": "gold"}), TOKEN
    )
    nobody = compiled.render(_recipient(), TOKEN)
    assert ann.subject == "Deals for Ann"
    assert "Hi Ann from Durham!" in ann.html and "Your tier: GOLD" in ann.html
    assert nobody.subject == "Deals for you"  # default() also replaces an empty value
    assert "Hi there from !" in nobody.html and "Your tier: MEMBER" in nobody.html
    assert "Hi Ann from Durham!" in ann.text and "Only this week at Leaf &amp; Co" in ann.html


def test_a_trait_named_like_a_dict_method_is_the_trait():
    compiled = _compile(html="<p>{{ traits.items }} {{ traits['keys'] }}</p>")
    rendered = compiled.render(_recipient(traits={"items": "3 items", "keys": "2 keys"}), TOKEN)
    assert "<p>3 items 2 keys</p>" in rendered.html


def test_recipient_data_is_escaped_in_html_and_plain_in_text_and_subject():
    compiled = _compile(
        html='<p title="{{ first_name }}">Hello {{ first_name }}</p>',
        subject="Hi {{ first_name }}",
    )
    rendered = compiled.render(_recipient(first_name='<script>alert("x")</script>'), TOKEN)
    assert "<script>" not in rendered.html
    assert "Hello &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert 'title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in rendered.html
    assert 'Hello <script>alert("x")</script>' in rendered.text
    assert rendered.subject == 'Hi <script>alert("x")</script>'


def test_line_breaks_in_data_never_reach_the_subject_header():
    compiled = _compile(subject="Hi {{ first_name }}")
    rendered = compiled.render(_recipient(first_name="Ann\r\nBcc: eve@example.com"), TOKEN)
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ first_name.__class__.__base__.__subclasses__() }}",
        "{{ first_name | attr('__class__') }}",
        "{{ traits.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ range.__globals__ }}",
        "{{ 'a' * 1000000 }}",
        "{{ 9 ** 99 ** 99 }}",
        "{% for i in range(10000000) %}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_escapes_with_a_clear_error(escape):
    html = f"<p>Hello</p>\n<p>{escape}</p>"
    problems = validate_template("Subject", "", html)
    assert problems, escape
    assert problems[0].field == "html" and problems[0].line == 2
    assert re.search(r"not available|not allowed|too|limited", problems[0].message, re.I)
    with pytest.raises(InvalidTemplate):
        _compile(html=html)


def test_syntax_errors_are_reported_with_their_line():
    problems = validate_template(
        "Hi {{ first_name", "", "<p>one</p>\n<p>two</p>\n{% if first_name %}\n<p>four</p>"
    )
    by_field = {problem.field: problem for problem in problems}
    assert by_field["subject"].line == 1 and "syntax" in by_field["subject"].message.lower()
    assert by_field["html"].line == 3 and "endif" in by_field["html"].message  # the open if
    unknown_filter = validate_template("Hi", "", "<p>a</p>\n\n{{ first_name | shout }}")
    assert unknown_filter[0].line == 3 and "shout" in unknown_filter[0].message


def test_unknown_tokens_are_reported_with_their_line_and_loop_names_are_not():
    html = (
        "<p>{{ first_name }}</p>\n"
        "<p>{{ frist_name }}</p>\n"
        "{% for item in traits.favorites %}{{ item }} {{ loop.index }}{% endfor %}\n"
        "{% set greeting = 'Hi' %}{{ greeting }} {{ favorite_strain }}"
    )
    problems = validate_template("{{ tenant_name }} news for {{ rep }}", "", html)
    found = {(p.field, p.line, p.message.split("'")[1]) for p in problems}
    assert found == {
        ("subject", 1, "rep"),
        ("html", 2, "frist_name"),
        ("html", 4, "favorite_strain"),
    }
    assert "traits.favorite_strain" in problems[-1].message  # says how to reach a trait


def test_nul_characters_and_oversized_fields_are_refused():
    assert validate_template("Hi", "", "<p>a</p>\n<p>\x00</p>")[0].line == 2
    assert "single line" in validate_template("Hi\nthere", "", "<p>a</p>")[0].message
    assert validate_template("x" * 301, "", "<p>a</p>")[0].field == "subject"


def test_css_is_inlined_and_media_rules_kept():
    html = _compile().render(_recipient(), TOKEN).html
    assert re.search(r'<p style="color: #123456;?">Hi there', html)
    assert re.search(r'class="cta"[^>]*style="background: #0a7d4f;?"', html)
    assert "@media only screen and (max-width: 600px)" in html  # kept for responsive clients
    assert "p { color: #123456; }" not in html


def test_every_web_link_is_tracked_and_the_original_with_utm_is_recoverable():
    compiled = _compile()
    rendered = compiled.render(_recipient(first_name="Ann"), TOKEN)
    hrefs = [unescape(h) for h in re.findall(r'<a\b[^>]*\shref="([^"]*)"', rendered.html)]
    tracked = [h for h in hrefs if h.startswith(f"{BASE}/t/c/")]
    assert len(tracked) == len(compiled.links) == 2
    for index, href in enumerate(tracked):
        token, link_index = href.removeprefix(f"{BASE}/t/c/").split("/")
        assert read_message_token(token) == (TENANT, 314) and int(link_index) == index
    shop = urlsplit(compiled.links[0])
    assert (shop.netloc, shop.path, shop.fragment) == ("shop.example.com", "/specials", "top")
    query = parse_qs(shop.query)
    assert query["sort"] == ["new"] and query["page"] == ["2"]
    assert query["utm_source"] == ["newsletter"] and query["utm_campaign"] == ["spring-sale"]
    assert parse_qs(urlsplit(compiled.links[1]).query)["utm_source"] == ["blog"]  # the link's own
    assert "mailto:help@example.com" in hrefs  # not a web link: left alone


def test_the_open_pixel_is_in_the_html():
    html = _compile().render(_recipient(), TOKEN).html
    assert f'<img src="{BASE}/t/o/{TOKEN}.gif" width="1" height="1" alt=""' in html


def test_the_footer_has_the_postal_address_and_the_way_out():
    rendered = _compile().render(_recipient(), TOKEN)
    assert "12 Main St, Raleigh, NC 27601" in rendered.html
    assert f'href="{BASE}/t/u/{TOKEN}"' in rendered.html
    assert f'href="{BASE}/t/p/{TOKEN}"' in rendered.html
    assert f"Unsubscribe ({BASE}/t/u/{TOKEN})" in rendered.text
    assert "12 Main St, Raleigh, NC 27601" in rendered.text


def test_the_text_part_has_the_words_and_links_and_no_tags():
    text = _compile().render(_recipient(first_name="Ann"), TOKEN).text
    assert "Hi Ann from !" in text
    assert f"Shop the specials ({BASE}/t/c/{TOKEN}/0)" in text
    assert "Logo" in text
    assert not re.search(r"<[a-z/!]", text, re.I)
    assert "Only this week" not in text  # the hidden preheader is not body text
    assert "color: #123456" not in text


def test_marketing_mail_has_one_click_unsubscribe_headers_and_transactional_has_none():
    marketing = _compile().render(_recipient(), TOKEN)
    assert marketing.headers == {
        "List-Unsubscribe": f"<{BASE}/t/u/{TOKEN}>, <mailto:unsubscribe+{TOKEN}@mail.example.com>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    receipt = _compile(transactional=True).render(_recipient(), TOKEN)
    assert receipt.headers == {}
    assert f"/t/u/{TOKEN}" not in receipt.html and "12 Main St" in receipt.html


def test_template_tags_that_html_parsing_would_move_are_refused():
    html = (
        "<table>\n<tr><td>a</td></tr>\n{% if first_name %}<tr><td>b</td></tr>{% endif %}\n</table>"
    )
    with pytest.raises(InvalidTemplate) as refused:
        _compile(html=html)
    assert "table cell" in refused.value.problems[0].message
    assert refused.value.problems[0].line == 3


def test_recipient_context_reads_a_contact_and_its_traits():
    contact = Contact(
        id=5,
        tenant_id=TENANT,
        email="buyer@bistro.example.com",
        first_name="Lee",
        last_name="Park",
        traits={"company": "Bistro 21", "territory": "Coast", "sales_rep": "Kim"},
        last_order_at=datetime(2025, 3, 1, 2, 30, tzinfo=UTC),
        order_count=4,
    )
    found = recipient_context(
        contact, {"city": "Wilmington"}, time_zone=ZoneInfo("America/New_York")
    )
    assert (found.customer_name, found.territory, found.rep_name) == ("Bistro 21", "Coast", "Kim")
    assert found.city == "Wilmington" and str(found.last_order_date) == "February 28, 2025"
    rendered = _compile(html="<p>{{ last_order_date | date('%m/%d/%Y') }}</p>").render(found, TOKEN)
    assert "<p>02/28/2025</p>" in rendered.html


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ('{"member": 123456789012345678901234}', 123456789012345678901234),
        ('{"member": 1e400}', float("inf")),
        ('{"member": "Café \\u00e9"}', "Café é"),
    ],
    ids=["integer_past_64_bits", "number_past_a_double", "escapes"],
)
def test_traits_read_as_json_text_keep_their_values(stored, expected):
    """Campaign batches read traits as JSON text; an integer orjson would turn into a float
    (or a number it refuses) must reach the template as it was stored."""
    row = SimpleNamespace(
        id=5, email="a@example.com", first_name="", last_name="", phone=None,
        traits=stored, last_order_at=None, order_count=0,
    )  # fmt: skip
    assert recipient_context(row).traits["member"] == expected
    member = _compile(html="<p>{{ traits.member }}</p>").render(recipient_context(row), TOKEN)
    assert f"<p>{expected}</p>" in member.html


names = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
SUBSTITUTABLE = """<html><head><style>p { margin: 0; }</style></head><body>
<p>Hi {{ first_name | default("there") }} {{ last_name }}, {{ customer_name | title }}</p>
<p>{{ traits.favorite | default("something new") }} at {{ store | default(tenant_name) }}</p>
<p>{{ ("Rep: " ~ rep_name) if rep_name else "" }} {{ loyalty_points | default(0) }}</p>
<a href="https://shop.example.com/a">A</a> <a href="https://shop.example.com/b?x=1">B</a>
<a href="{{ unsubscribe_url }}">Leave</a> <img alt="{{ first_name }}" src="https://x.example/i.png">
<p>{{ traits.favorite | upper }} {{ traits.favorite | safe }} {{ traits.favorite | e }}</p>
<p>{{ traits.nothing }} {{ "<&>'" ~ first_name }} {{ order_count + 1 }}
{{ traits.n | default(0) | int }}</p>
</body></html>"""
SUBSTITUTION_EMAIL = _compile(
    html=SUBSTITUTABLE, subject="{{ first_name | default('Friend') }}, news from {{ tenant_name }}"
)


@settings(max_examples=150, deadline=None)
@given(first=names, last=names, company=names, favorite=names, rep=names, points=names)
def test_the_substitution_form_gives_byte_identical_emails(
    first, last, company, favorite, rep, points
):
    form = SUBSTITUTION_EMAIL.substitution_form()
    assert form is not None
    recipient = _recipient(
        first_name=first,
        last_name=last,
        customer_name=company,
        rep_name=rep,
        loyalty_points=points,
        traits={"favorite": favorite, "n": points},
    )
    token = message_token(TENANT, len(first) + 1)
    rendered = SUBSTITUTION_EMAIL.render(recipient, token)
    values = form.values(recipient, token)
    assert set(values) == set(form.keys) and all(isinstance(v, str) for v in values.values())
    assert form.fill(values) == (rendered.subject, rendered.html, rendered.text)
    assert form.headers(token) == rendered.headers


EVERY_NAME = sorted({*SUBSTITUTION_EMAIL.variables(_recipient(), TOKEN), "unknown", "loop"})


@settings(max_examples=100, deadline=None)
@given(names=st.sets(st.sampled_from(EVERY_NAME)))
def test_a_form_builds_only_the_variables_its_expressions_read_with_the_same_values(names):
    recipient = _recipient(first_name="Ann", rep_name="Sam", traits={"favorite": "x"})
    every = SUBSTITUTION_EMAIL.variables(recipient, TOKEN)
    build = variables_builder(SUBSTITUTION_EMAIL, frozenset(names))
    assert build(recipient, TOKEN) == {name: every[name] for name in names if name in every}


def test_the_substitution_form_needs_few_values():
    form = SUBSTITUTION_EMAIL.substitution_form()
    assert "Leaf &amp; Co" not in form.subject and "Leaf & Co" in form.subject  # folded in
    assert form.token_key in form.html and form.token_key in form.text
    assert f"{BASE}/t/u/{form.token_key}" in form.html  # the link needs no value of its own
    assert len(form.keys) <= 32  # token + subject 1 + html 15 + text 15
    # Each expression evaluated once: the html part's escaped from its text value, except
    # where autoescaping writes something else (`| safe`, `| e`: markup).
    evaluated = form.evaluation
    html_expressions = [key for key, from_html, _, _ in evaluated.fills if from_html]
    assert len(html_expressions) == 2
    assert len({(from_html, chunk) for _, from_html, chunk, _ in evaluated.fills}) == 18


@pytest.mark.parametrize(
    "control",
    [
        "{% if first_name %}Hi {{ first_name }}{% endif %}",
        "{% for item in traits.favorites %}{{ item }}{% endfor %}",
        "{% set name = first_name %}{{ name }}",
    ],
)
def test_templates_steered_by_recipient_data_have_no_substitution_form(control):
    compiled = _compile(html=f"<p>{control}</p>")
    assert compiled.substitution_form() is None
    rendered = compiled.render(_recipient(first_name="Ann", traits={"favorites": ["x"]}), TOKEN)
    assert "Ann" in rendered.html or "x" in rendered.html
