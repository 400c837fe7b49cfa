"""Route constants and URL builders; pages and states never spell paths by hand."""

from __future__ import annotations

from urllib.parse import quote

LOGIN = "/login"
LOGIN_COMPLETE = "/api/auth/complete"
LOGOUT = "/api/auth/logout"
SESSION_COOKIE = "mk_session"
HOME = "/"
ADMIN = "/admin"
TENANT_ROUTE_ARG = "tenant_slug"
TENANT_DASHBOARD = f"/t/[{TENANT_ROUTE_ARG}]/dashboard"
TENANT_SETTINGS = f"/t/[{TENANT_ROUTE_ARG}]/settings"
TENANT_CUSTOMERS = f"/t/[{TENANT_ROUTE_ARG}]/customers"
CUSTOMER_DETAIL = f"/t/[{TENANT_ROUTE_ARG}]/customers/[customer_id]"
TENANT_SEGMENTS = f"/t/[{TENANT_ROUTE_ARG}]/segments"
SEGMENT_NEW = f"/t/[{TENANT_ROUTE_ARG}]/segments/new"
SEGMENT_RFM = f"/t/[{TENANT_ROUTE_ARG}]/segments/rfm"
SEGMENT_DETAIL = f"/t/[{TENANT_ROUTE_ARG}]/segments/[segment_id]"
SEGMENT_EDIT = f"/t/[{TENANT_ROUTE_ARG}]/segments/[segment_id]/edit"
STATIC_LIST_DETAIL = f"/t/[{TENANT_ROUTE_ARG}]/segments/lists/[segment_id]"
TENANT_LOYALTY = f"/t/[{TENANT_ROUTE_ARG}]/loyalty"
LOYALTY_RECONCILIATION = f"/t/[{TENANT_ROUTE_ARG}]/loyalty/reconciliation"
TENANT_CAMPAIGNS = f"/t/[{TENANT_ROUTE_ARG}]/campaigns"
CAMPAIGN_NEW = f"/t/[{TENANT_ROUTE_ARG}]/campaigns/new"
CAMPAIGN_DETAIL = f"/t/[{TENANT_ROUTE_ARG}]/campaigns/[campaign_id]"
CAMPAIGN_EDIT = f"/t/[{TENANT_ROUTE_ARG}]/campaigns/[campaign_id]/edit"
TENANT_EMAIL_TEMPLATES = f"/t/[{TENANT_ROUTE_ARG}]/email-templates"
EMAIL_TEMPLATE_NEW = f"/t/[{TENANT_ROUTE_ARG}]/email-templates/new"
EMAIL_TEMPLATE_EDIT = f"/t/[{TENANT_ROUTE_ARG}]/email-templates/[template_id]"
TENANT_OUTBOX = f"/t/[{TENANT_ROUTE_ARG}]/outbox"
TENANT_SUPPRESSIONS = f"/t/[{TENANT_ROUTE_ARG}]/suppressions"


def dashboard_url(slug: str) -> str:
    return f"/t/{slug}/dashboard"


def settings_url(slug: str) -> str:
    return f"/t/{slug}/settings"


def segments_url(slug: str) -> str:
    return f"/t/{slug}/segments"


def segment_url(slug: str, segment_id: int | str) -> str:
    return f"/t/{slug}/segments/{segment_id}"


def segment_edit_url(slug: str, segment_id: int | str) -> str:
    return f"/t/{slug}/segments/{segment_id}/edit"


def static_list_url(slug: str, segment_id: int | str) -> str:
    return f"/t/{slug}/segments/lists/{segment_id}"


def loyalty_url(slug: str) -> str:
    return f"/t/{slug}/loyalty"


def loyalty_reconciliation_url(slug: str) -> str:
    return f"/t/{slug}/loyalty/reconciliation"


def campaigns_url(slug: str) -> str:
    return f"/t/{slug}/campaigns"


def campaign_url(slug: str, campaign_id: int | str) -> str:
    return f"/t/{slug}/campaigns/{campaign_id}"


def campaign_edit_url(slug: str, campaign_id: int | str) -> str:
    return f"/t/{slug}/campaigns/{campaign_id}/edit"


def email_templates_url(slug: str) -> str:
    return f"/t/{slug}/email-templates"


def email_template_url(slug: str, template_id: int | str) -> str:
    return f"/t/{slug}/email-templates/{template_id}"


def tenant_slug_from_path(path: str) -> str:
    """The slug of a `/t/<slug>/...` path, or "" for any other path."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "t" else ""


def safe_next_path(path: str) -> str:
    """Only same-site paths: an open redirect would let phishing links reuse our login."""
    if not path.startswith("/") or path.startswith("//") or path.startswith(LOGIN):
        return HOME
    return path


def login_complete_url(ticket: str, next_path: str) -> str:
    return f"{LOGIN_COMPLETE}?ticket={quote(ticket)}&next={quote(safe_next_path(next_path))}"


def path_part(path: str, index: int) -> str:
    """The index-th segment of a path ("" when missing): /t/<slug>/customers/<id> -> 3 is id."""
    parts = path.strip("/").split("/")
    return parts[index] if len(parts) > index else ""
