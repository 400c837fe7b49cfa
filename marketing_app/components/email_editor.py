"""The email editor's pieces, for any state with the EmailEditorMixin: content fields with a
token picker and the problems found by line, a preview as a chosen customer, a test send."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.choices import fixed_select
from marketing_app.components.widgets import field_error, labeled

TOKEN_TARGETS = [("subject", "subject"), ("preheader", "preheader"), ("html", "HTML (copies)")]
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"


def _token_picker(S) -> rx.Component:
    item = lambda t: rx.menu.item(  # noqa: E731
        rx.hstack(
            rx.code(t.snippet, size="1"),
            rx.text(t.hint, size="1", color_scheme="gray"),
            spacing="2",
            align="center",
        ),
        on_click=S.pick_token(t.snippet),
        class_name="token-item",
    )
    return rx.hstack(
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("braces", size=14),
                    "Insert token",
                    size="1",
                    variant="soft",
                    id="token-picker",
                )
            ),
            rx.menu.content(rx.foreach(S.tokens, item), max_height="22em"),
        ),
        rx.text("into", size="1", color_scheme="gray"),
        fixed_select(TOKEN_TARGETS, S.token_field, S.set_token_field, select_id="token-target"),
        align="center",
        spacing="2",
    )


def problems_box(S) -> rx.Component:
    listed = rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.vstack(
            rx.text("Problems found:", weight="medium", size="2"),
            rx.foreach(S.problems, lambda p: rx.text(p, size="2", class_name="template-problem")),
            spacing="1",
        ),
        color_scheme="red",
        width="100%",
        id="template-problems",
    )
    fine = rx.hstack(
        rx.icon("circle-check", size=14, color=rx.color("green", 10)),
        rx.text("No problems found.", size="1", color_scheme="green"),
        align="center",
        spacing="1",
        id="template-ok",
    )
    return rx.cond(S.problems.length() > 0, listed, fine)


def content_editor(S, *, disabled=False) -> rx.Component:
    return rx.vstack(
        labeled(
            "Subject",
            rx.input(
                value=S.subject,
                on_change=S.set_subject,
                width="100%",
                id="email-subject",
                disabled=disabled,
                placeholder="e.g. {{ first_name | default('Friend') }}, this week's specials",
            ),
        ),
        labeled(
            "Preheader (the preview line after the subject)",
            rx.input(
                value=S.preheader,
                on_change=S.set_preheader,
                width="100%",
                id="email-preheader",
                disabled=disabled,
            ),
        ),
        _token_picker(S),
        labeled(
            "HTML",
            rx.text_area(
                value=S.html,
                on_change=S.set_html,
                width="100%",
                rows="26",
                font_family=MONO,
                font_size="12px",
                id="email-html",
                disabled=disabled,
                spell_check=False,
            ),
        ),
        problems_box(S),
        spacing="3",
        width="100%",
    )


def _customer_chooser(S) -> rx.Component:
    result = lambda r: rx.button(  # noqa: E731
        r["label"],
        size="1",
        variant="ghost",
        on_click=S.choose_customer(r["id"], r["label"]),
        class_name="customer-result",
        justify="start",
        width="100%",
    )
    return rx.vstack(
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Preview as… (name or email)",
                value=S.customer_query,
                on_change=S.search_customers,
                width="100%",
                id="preview-customer-search",
            ),
            rx.button(
                "Sample customer",
                size="2",
                variant="soft",
                color_scheme="gray",
                on_click=S.use_sample_customer,
            ),
            width="100%",
        ),
        rx.cond(
            S.customer_results.length() > 0,
            rx.vstack(rx.foreach(S.customer_results, result), spacing="1", width="100%"),
        ),
        width="100%",
        spacing="1",
    )


def preview_panel(S) -> rx.Component:
    frame = rx.el.iframe(
        src_doc=S.preview_html,
        sandbox="",  # no scripts, forms or navigation: it is tenant-written HTML
        width="100%",
        height="560px",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="8px",
        background="white",
        id="preview-frame",
        title="Email preview",
    )
    shown = rx.vstack(
        rx.text(rx.text.strong("Subject: "), S.preview_subject, size="2", id="preview-subject"),
        frame,
        width="100%",
        spacing="2",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Preview as", weight="bold", white_space="nowrap"),
                rx.badge(
                    rx.cond(S.preview_contact != "", S.preview_contact, "sample customer"),
                    variant="soft",
                    id="preview-as",
                    max_width="100%",
                    overflow="hidden",
                    text_overflow="ellipsis",
                ),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("refresh-cw", size=14),
                    size="1",
                    variant="soft",
                    on_click=S.refresh_preview,
                    id="refresh-preview",
                    aria_label="Refresh the preview",
                ),
                width="100%",
                align="center",
                min_width="0",
            ),
            _customer_chooser(S),
            rx.cond(
                S.preview_error != "",
                rx.callout(S.preview_error, icon="eye-off", color_scheme="amber", width="100%"),
                rx.cond(
                    S.preview_html != "",
                    shown,
                    rx.text("The preview appears here.", size="2", color_scheme="gray"),
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def test_send_panel(S, *extra: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Send a test", weight="bold"),
            rx.text(
                "Goes to one address as the customer chosen for the preview would get it.",
                size="1",
                color_scheme="gray",
            ),
            *extra,
            rx.hstack(
                rx.input(
                    value=S.test_to,
                    on_change=S.set_test_to,
                    placeholder="you@example.com",
                    width="100%",
                    id="test-to",
                ),
                rx.button(
                    rx.cond(S.test_busy, rx.spinner(size="1"), rx.icon("send", size=14)),
                    "Send test",
                    on_click=S.send_test,
                    disabled=~S.can_edit | S.test_busy,
                    id="send-test",
                ),
                width="100%",
            ),
            field_error(S.test_error),
            width="100%",
        ),
        width="100%",
    )
