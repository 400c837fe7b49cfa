"""Email rendering throughput on one core, for the campaign sender's two paths.

The template is a campaign-like email: a responsive built-in frame, personalized greeting,
traits and defaults, 7 tracked links, the open pixel, footer and unsubscribe headers. Per
recipient each path also signs the message token, as the sender must.

  render_per_s        CompiledEmail.render(): subject, html and text (SMTP, SES, ... path)
  values_per_s        SubstitutionEmail.values(): the per-recipient values SendGrid batching
                      sends (1,000 personalizations per request)
  recipient_context_per_s  recipient_context() from contact rows
  jinja_ceiling_per_s the same three compiled templates rendered by a bare (unsandboxed)
                      jinja2 Environment with Template.render: what plain jinja costs here

Prints one JSON line. No database needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinja2 import Environment

from marketing_app.models import Contact
from marketing_app.services.email_builtin.layout import button, card, page, two_columns
from marketing_app.services.email_rendering import compile_email, recipient_context
from marketing_app.services.email_tokens import message_token

SHOP = "https://shop.example.com"
SUBJECT = "{{ first_name | default('Friend') }}, this week's specials at {{ tenant_name }}"
PREHEADER = "Fresh deals in {{ city | default('your area') }}, this week only."
HTML = page(
    "Weekly specials",
    '<h1>This week\'s specials</h1>\n<p>Hi {{ first_name | default("there") }},</p>\n'
    "<p>Your favourite, {{ traits.favorite | default('our staff pick') }}, is on special at "
    "{{ store | default(tenant_name) }}. Ask {{ rep_name | default('our team') }} for more.</p>\n"
    + two_columns(
        card("Staff pick", "20% off all week.", f"{SHOP}/1", "See the deal"),
        card("Bundle", "Third at half price.", f"{SHOP}/2", "Build a bundle"),
    )
    + two_columns(
        card("Restocked", "Back in limited numbers.", f"{SHOP}/3?x=1", "Shop now"),
        card("Clearance", "Up to 40% off.", f"{SHOP}/4", "Browse"),
    )
    + two_columns(
        card("New", "Just landed.", f"{SHOP}/5", "Discover"),
        card("Events", "Tasting on Saturday.", f"{SHOP}/6", "RSVP"),
    )
    + button("Shop all specials", f"{SHOP}/all"),
)


def _contacts(count: int) -> list[Contact]:
    names = ["Ann", "Bo", "", "Chloé", "D'Angelo", "<Eve>", "Fa & Co"]
    return [
        Contact(
            id=i + 1,
            tenant_id=uuid.uuid4(),
            email=f"c{i}@example.com",
            first_name=names[i % len(names)],
            last_name=f"Last{i}",
            traits={"favorite": f"Product {i % 13}", "store": "Downtown"} if i % 3 else {},
        )
        for i in range(count)
    ]


def _rate(count: int, started: float) -> float:
    return round(count / (time.perf_counter() - started))


def _compile():
    return compile_email(
        subject=SUBJECT,
        preheader=PREHEADER,
        html=HTML,
        tenant_name="Leaf & Co",
        postal_address="12 Main St, Raleigh, NC 27601",
        tracking_base_url="https://links.example.com",
        utm={"utm_source": "email", "utm_medium": "email", "utm_campaign": "weekly"},
        unsubscribe_mail_domain="mail.example.com",
    )


def _bare_jinja_rate(compiled, recipients, token: str) -> float:
    """The compiled sources through plain jinja2 Template.render, no sandbox."""
    bare = [
        Environment().from_string(compiled.subject_source),
        Environment(autoescape=True).from_string(compiled.html_source),
        Environment().from_string(compiled.text_source),
    ]
    started = time.perf_counter()
    for recipient in recipients:
        variables = compiled.variables(recipient, token)
        for template in bare:
            template.render(variables)
    return _rate(len(recipients), started)


def measure(count: int) -> dict:
    started = time.perf_counter()
    compiled = _compile()
    form = compiled.substitution_form()
    compile_ms = round((time.perf_counter() - started) * 1000, 1)
    contacts, tenant = _contacts(count), uuid.uuid4()

    started = time.perf_counter()
    recipients = [recipient_context(contact, {"city": "Raleigh"}) for contact in contacts]
    context_rate = _rate(count, started)

    started = time.perf_counter()
    for i, recipient in enumerate(recipients):
        compiled.render(recipient, message_token(tenant, i + 1))
    render_rate = _rate(count, started)

    started = time.perf_counter()
    for i, recipient in enumerate(recipients):
        form.values(recipient, message_token(tenant, i + 1))
    values_rate = _rate(count, started)

    token = message_token(tenant, 1)
    return {
        "bench": "email_render",
        "recipients": count,
        "tracked_links": len(compiled.links),
        "compile_ms": compile_ms,
        "render_per_s": render_rate,
        "values_per_s": values_rate,
        "recipient_context_per_s": context_rate,
        "jinja_ceiling_per_s": _bare_jinja_rate(compiled, recipients, token),
        "substitution_keys": len(form.keys),
        "html_bytes": len(compiled.render(recipients[0], token).html.encode()),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    args = parser.parse_args()
    print(json.dumps(measure(args.recipients)))


if __name__ == "__main__":
    main()
