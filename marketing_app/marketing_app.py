"""The Reflex app: the API mounted in front, and every page registered. Nothing else."""

import reflex as rx

from marketing_app.api.app import create_api
from marketing_app.pages import admin, customers, dashboard, home, login, settings

PAGES = [
    (home.home_page, home, "Marketing"),
    (login.login_page, login, "Sign in"),
    (dashboard.dashboard_page, dashboard, "Dashboard"),
    (settings.settings_page, settings, "Settings"),
    (admin.admin_page, admin, "Admin"),
    (customers.customers_page, customers, "Customers"),
]

app = rx.App(api_transformer=create_api())
for component, module, title in PAGES:
    app.add_page(component, route=module.ROUTE, title=title, on_load=module.ON_LOAD)
app.add_page(
    customers.customer_detail_page,
    route=customers.DETAIL_ROUTE,
    title="Customer",
    on_load=customers.DETAIL_ON_LOAD,
)
