"""BatchBodies: a batch's bodies encoded once decode to what encoding each filled text gives."""

from __future__ import annotations

import email
from email import policy

from marketing_app.domain.email import BatchRecipient, SubstitutionBatch
from marketing_app.providers.email.base import expand_batch
from marketing_app.providers.email.mime import BatchBodies, build_mime

HTML = '<p>Hi -k0-,</p>\n<a href="https://t.example/c/-tok-/0">' + "x" * 150 + "</a>-k0--k1-"
TEXT = "Hi -k0-, " + "long text " * 30 + "\nSee https://t.example/c/-tok-/0 -k1-"
NAMES = ["Ann", "", "Chloé = ü", "D'Angelo\nnext line ", "y" * 74 + "é", "z" * 300, "tab\tend "]


def _batch() -> SubstitutionBatch:
    recipients = tuple(
        BatchRecipient(
            message_id=i,
            to=f"r{i}@example.com",
            substitutions={"-k0-": name, "-k1-": f"{i} & co ", "-tok-": f"tok{i}"},
        )
        for i, name in enumerate(NAMES)
    )
    return SubstitutionBatch(
        from_email="news@example.com", subject="Hello -k1-", html=HTML, text=TEXT,
        recipients=recipients,
    )  # fmt: skip


def _parts(raw: bytes) -> tuple[str, str, str]:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    html, text = parsed.get_body(("html",)), parsed.get_body(("plain",))
    return str(parsed["Subject"]), html.get_content(), text.get_content()


def test_encoded_once_bodies_decode_as_the_filled_text_and_keep_short_lines():
    batch = _batch()
    bodies = BatchBodies(batch)
    filled = expand_batch(batch)
    bare = expand_batch(batch, with_content=False)
    for recipient, whole, without in zip(batch.recipients, filled, bare, strict=True):
        expected = build_mime(whole, message_id="<1@example.com>")
        raw = build_mime(
            without, message_id="<1@example.com>", body=bodies.body(recipient.substitutions)
        )
        assert _parts(raw) == _parts(expected)
        body = raw.partition(b"\r\n\r\n")[2]
        assert max(len(line) for line in body.split(b"\r\n")) <= 76
