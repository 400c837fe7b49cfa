"""The small public pages behind email links (unsubscribe, preferences), server-rendered.

They must work for anyone who clicks a link in a mail client, with no app, login or script,
so they are plain HTML from an autoescaping jinja2 environment.
"""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment
from markupsafe import Markup

_ENV = Environment(autoescape=True)

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:2rem;color:#1f2937}
main{max-width:32rem;margin:0 auto;background:#fff;border-radius:12px;padding:2rem;
box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:1.4rem;margin-top:0}button{background:#4f46e5;color:#fff;border:0;
border-radius:8px;padding:.7rem 1.4rem;font-size:1rem;cursor:pointer}
fieldset{border:1px solid #e5e7eb;border-radius:8px;margin:1rem 0}
label{display:block;padding:.3rem 0}.saved{color:#047857}
</style></head><body><main>{{ body }}</main></body></html>"""

_MESSAGE = """<h1>{{ title }}</h1><p>{{ text }}</p>
{% if form_action %}<form method="post" action="{{ form_action }}">
<input type="hidden" name="confirm" value="1"><button type="submit">{{ button }}</button>
</form>{% endif %}
{% if link %}<p><a href="{{ link[0] }}">{{ link[1] }}</a></p>{% endif %}"""

_PREFERENCES = """<h1>Your emails from {{ tenant }}</h1>
{% if saved %}<p class="saved" role="status">Your choices are saved.</p>{% endif %}
<form method="post" action="/t/p/{{ token }}">
{% for channel, label in channels %}<fieldset><legend>{{ label }}</legend>
{% for choice in choices if choice.channel == channel %}
<label><input type="checkbox" name="{{ channel }}" value="{{ choice.topic }}"
{% if choice.subscribed %}checked{% endif %}> {{ choice.label }}</label>
{% endfor %}</fieldset>{% endfor %}
<button type="submit">Save my choices</button></form>
<p>Untick everything to stop all marketing messages.</p>"""

CHANNEL_LABELS = (("email", "Email"), ("sms", "Text messages"))


def _layout(title: str, body: str) -> str:
    return _ENV.from_string(_LAYOUT).render(title=title, body=Markup(body))


def message_page(
    title: str,
    text: str,
    *,
    form_action: str = "",
    button: str = "",
    link: tuple[str, str] | None = None,
) -> str:
    body = _ENV.from_string(_MESSAGE).render(
        title=title, text=text, form_action=form_action, button=button, link=link
    )
    return _layout(title, body)


def preferences_page(tenant: str, token: str, choices: Sequence, *, saved: bool = False) -> str:
    body = _ENV.from_string(_PREFERENCES).render(
        tenant=tenant, token=token, choices=choices, channels=CHANNEL_LABELS, saved=saved
    )
    return _layout(f"Email preferences: {tenant}", body)
