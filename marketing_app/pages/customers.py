"""Customers: a searchable, filterable list and each customer's profile and timeline."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, pager, stat_card
from marketing_app.pages.customer_import import import_panel
from marketing_app.pages.layout import shell
from marketing_app.pages.loyalty_card import loyalty_card
from marketing_app.state.customers import ANY
from marketing_app.state.customers import CustomerDetailState as D
from marketing_app.state.customers import CustomersState as C
from marketing_app.state.loyalty_card import LoyaltyCardState


def _filters() -> rx.Component:
    location = rx.select.root(
        rx.select.trigger(placeholder="All locations"),
        rx.select.content(
            rx.select.item("All locations", value=ANY),
            rx.foreach(C.locations, lambda loc: rx.select.item(loc["name"], value=loc["id"])),
        ),
        value=C.location,
        on_change=C.set_location,
    )
    buyers = rx.select.root(
        rx.select.trigger(),
        rx.select.content(
            rx.select.item("Everyone", value=ANY),
            rx.select.item("Buyers", value="buyers"),
            rx.select.item("Never ordered", value="prospects"),
        ),
        value=C.buyers,
        on_change=C.set_buyers,
    )
    search = rx.input(
        placeholder="Search name, email or phone",
        value=C.search,
        on_change=C.set_search.debounce(300),
        width="24em",
        id="customer-search",
    )
    return rx.hstack(search, location, buyers, spacing="3", wrap="wrap")


def _customer_cells(row) -> list:
    link = rx.link(row["name"], href="/t/" + C.current_slug + "/customers/" + row["id"])
    return [link, row["email"], row["phone"], row["orders"], row["spent"], row["last_seen"]]


def _list_content() -> rx.Component:
    empty = empty_state(
        "users",
        "No customers match",
        "Clear the filters, or bring customers in through the tracking API "
        "(/v1/batch with a publishable key) or the profiles API.",
    )
    return rx.vstack(
        rx.accordion.root(
            rx.accordion.item(header="Import customers", content=import_panel(), value="import"),
            collapsible=True,
            width="100%",
            variant="outline",
            id="import-accordion",
        ),
        _filters(),
        simple_table(
            ["Name", "Email", "Phone", "Orders", "Spent", "Last seen"],
            C.rows,
            _customer_cells,
            empty=empty,
            table_id="customers-table",
        ),
        pager(C.page, C.pages, C.total, C.page_by(-1), C.page_by(1)),
        spacing="4",
        width="100%",
    )


def customers_page() -> rx.Component:
    return shell("Customers", _list_content)


def _field(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _profile_card() -> rx.Component:
    p = D.profile
    return rx.card(
        rx.data_list.root(
            _field("Email", p["email"]),
            _field("Phone", p["phone"]),
            _field("User id", p["user_id"]),
            _field("Birthday", p["birthday"]),
            _field("Location", p["location"]),
            _field("Email consent", p["email_consent"]),
            _field("SMS consent", p["sms_consent"]),
            rx.foreach(D.traits, lambda t: _field(t["key"], t["value"])),
        ),
        width="100%",
    )


def _timeline() -> rx.Component:
    empty = empty_state(
        "history", "No activity yet", "Events and orders of this customer show here."
    )
    return simple_table(
        ["When", "Type", "What", "Details"],
        D.timeline,
        lambda e: [e["at"], rx.badge(e["kind"]), e["title"], e["detail"]],
        empty=empty,
        table_id="timeline",
    )


def _detail_content() -> rx.Component:
    return rx.vstack(
        rx.link("← All customers", href="/t/" + D.current_slug + "/customers"),
        rx.heading(D.profile["name"], size="6", id="customer-name"),
        rx.grid(rx.foreach(D.facts, stat_card), columns="4", spacing="4", width="100%"),
        loyalty_card(),
        rx.grid(
            _profile_card(),
            rx.vstack(rx.heading("Timeline", size="4"), _timeline(), width="100%"),
            columns="1fr 2fr",
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def customer_detail_page() -> rx.Component:
    return shell("Customer", _detail_content)


ROUTE = routes.TENANT_CUSTOMERS
ON_LOAD = [C.require_tenant, C.load]
DETAIL_ROUTE = routes.CUSTOMER_DETAIL
DETAIL_ON_LOAD = [D.require_tenant, D.load, LoyaltyCardState.load]
