"""One email template: name, the editor (token picker, problems by line), preview as a
customer, a test send, save and delete."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.dialogs import delete_dialog
from marketing_app.components.email_editor import content_editor, preview_panel, test_send_panel
from marketing_app.components.widgets import labeled
from marketing_app.pages.campaigns import read_only_note
from marketing_app.pages.layout import form_page, shell
from marketing_app.pages.segments import when_loaded
from marketing_app.state.email_template_editor import TemplateEditorState as E


def _delete_dialog() -> rx.Component:
    return delete_dialog(
        title="Delete this template?",
        description="Campaigns made from it keep their own copy of the content.",
        on_confirm=E.delete,
        open_=E.delete_open,
        on_open_change=E.set_delete_open,
        disabled=~E.can_edit,
        trigger_id="delete-template",
    )


def _header() -> rx.Component:
    return rx.hstack(
        rx.box(
            labeled(
                "Template name",
                rx.input(
                    value=E.name,
                    on_change=E.set_name,
                    width="100%",
                    id="template-name",
                    placeholder="e.g. Monthly newsletter",
                ),
                E.name_error,
            ),
            flex="1",
        ),
        rx.button(
            rx.icon("save", size=16),
            "Save template",
            on_click=E.save,
            disabled=~E.can_edit,
            id="save-template",
        ),
        rx.cond(E.template_id != 0, _delete_dialog()),
        width="100%",
        align="end",
        spacing="3",
    )


def _test_from() -> rx.Component:
    return rx.input(
        value=E.test_from,
        on_change=E.set_test_from,
        placeholder="From address, e.g. news@yourshop.com",
        width="100%",
        id="test-from",
    )


def _page() -> rx.Component:
    body = rx.vstack(
        rx.link("← Email templates", href=E.back_href),
        read_only_note("You can look at this template; owners and marketers change it."),
        _header(),
        rx.cond(
            E.save_error != "",
            rx.callout(E.save_error, icon="ban", color_scheme="red", width="100%", id="save-error"),
        ),
        rx.grid(
            rx.card(content_editor(E), width="100%"),
            rx.vstack(preview_panel(E), test_send_panel(E, _test_from()), width="100%"),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
    return form_page(when_loaded(E.loaded, body), E)


def template_editor_page() -> rx.Component:
    return shell("Email template", _page)


NEW_ROUTE = routes.EMAIL_TEMPLATE_NEW
EDIT_ROUTE = routes.EMAIL_TEMPLATE_EDIT
ON_LOAD = [E.require_tenant, E.load]
