"""The Reflex app: the API mounted in front, and every page registered. Nothing else."""

import reflex as rx

from marketing_app.api.app import create_api
from marketing_app.gc_tuning import tune_gc_for_batches
from marketing_app.pages import (
    admin,
    campaign_builder,
    campaign_detail,
    campaigns,
    customers,
    dashboard,
    email_template_editor,
    email_templates,
    home,
    login,
    loyalty,
    loyalty_reconciliation,
    outbox,
    segments,
    segments_builder,
    segments_detail,
    segments_rfm,
    settings,
    suppressions,
)

PAGES = [
    (home.home_page, home, "Marketing"),
    (login.login_page, login, "Sign in"),
    (dashboard.dashboard_page, dashboard, "Dashboard"),
    (settings.settings_page, settings, "Settings"),
    (admin.admin_page, admin, "Admin"),
    (customers.customers_page, customers, "Customers"),
    (segments.segments_page, segments, "Segments"),
    (segments_rfm.rfm_page, segments_rfm, "RFM groups"),
    (loyalty.loyalty_page, loyalty, "Loyalty"),
    (loyalty_reconciliation.reconciliation_page, loyalty_reconciliation, "Reconciliation"),
    (campaigns.campaigns_page, campaigns, "Campaigns"),
    (email_templates.email_templates_page, email_templates, "Email templates"),
    (outbox.outbox_page, outbox, "Outbox"),
    (suppressions.suppressions_page, suppressions, "Suppressions"),
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
# Pages sharing a module: (component, route, title, on_load). Static paths (new, rfm,
# lists/...) outrank [segment_id] in the router.
MORE_PAGES = [
    (
        segments_builder.segment_builder_page,
        segments_builder.NEW_ROUTE,
        "New segment",
        segments_builder.ON_LOAD,
    ),
    (
        segments_builder.segment_builder_page,
        segments_builder.EDIT_ROUTE,
        "Edit segment",
        segments_builder.ON_LOAD,
    ),
    (
        segments_detail.segment_detail_page,
        segments_detail.ROUTE,
        "Segment",
        segments_detail.ON_LOAD,
    ),
    (
        segments_detail.static_list_page,
        segments_detail.LIST_ROUTE,
        "Static list",
        segments_detail.LIST_ON_LOAD,
    ),
]
# Campaigns and templates: "new" outranks [campaign_id] / [template_id] in the router.
MORE_PAGES += [
    (
        campaign_builder.campaign_builder_page,
        campaign_builder.NEW_ROUTE,
        "New campaign",
        campaign_builder.ON_LOAD,
    ),
    (
        campaign_builder.campaign_builder_page,
        campaign_builder.EDIT_ROUTE,
        "Edit campaign",
        campaign_builder.ON_LOAD,
    ),
    (
        campaign_detail.campaign_detail_page,
        campaign_detail.ROUTE,
        "Campaign",
        campaign_detail.ON_LOAD,
    ),
    (
        email_template_editor.template_editor_page,
        email_template_editor.NEW_ROUTE,
        "New email template",
        email_template_editor.ON_LOAD,
    ),
    (
        email_template_editor.template_editor_page,
        email_template_editor.EDIT_ROUTE,
        "Email template",
        email_template_editor.ON_LOAD,
    ),
]
for component, route, title, on_load in MORE_PAGES:
    app.add_page(component, route=route, title=title, on_load=on_load)
tune_gc_for_batches()
