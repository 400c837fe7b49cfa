"""The words of the segment builder: labels of condition kinds, profile fields, operators and
choices, shared by the builder page, the form model and the definition told in words."""

from __future__ import annotations

KIND_LABELS = {
    "trait": "Profile field",
    "orders": "Order totals",
    "no_order_in": "No order in N days",
    "engagement": "Email or SMS engagement",
    "event": "Did an event",
    "event_time": "First or last time of an event",
    "ordered_product": "Ordered a product",
    "consent": "Consent",
    "segment": "In another segment or list",
    "rfm": "RFM group",
    "top_spenders": "Top spenders",
    "random_bucket": "Random sample",
    "loyalty": "Loyalty",
}
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "user_id": "User id",
    "time_zone": "Time zone",
    "birthday": "Birthday",
    "created_at": "Created",
    "first_seen_at": "First seen",
    "last_seen_at": "Last seen",
    "last_order_at": "Last order",
    "order_count": "Number of orders",
    "total_spent": "Total spent ($)",
    "location": "Location",
    "staff": "Staff member",
}
OP_LABELS = {
    "eq": "is",
    "ne": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "in": "is one of",
    "not_in": "is none of",
    "is_set": "is set",
    "is_not_set": "is not set",
    "gt": "more than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "between": "between",
    "in_current_month": "is in the current month",
    "before": "before",
    "after": "after",
    "within_last_days": "in the last N days",
    "not_within_last_days": "not in the last N days",
    "anniversary_within_next_days": "comes round in the next N days",
    "in_month": "is in month",
    "is_true": "is true",
    "is_false": "is false",
}
METRIC_LABELS = {
    "total_spent": "Total spent ($)",
    "order_count": "Number of orders",
    "average_order_value": "Average order ($)",
}
LOYALTY_FIELD_LABELS = {
    "member": "membership",
    "tier": "tier",
    "balance": "points balance",
    "lifetime_earned": "lifetime points",
}
# Loyalty operators that read differently from the same operators of a profile field.
LOYALTY_OP_LABELS = {
    "is_true": "is a member",
    "is_false": "is not a member",
    "at_least": "is at least",
    "in_top": "is in the top",
}
NO_TIER_LABEL = "no tier"
COUNT_OP_LABELS = {"at_least": "at least", "at_most": "at most", "exactly": "exactly"}
ACTION_LABELS = {"opened": "opened", "clicked": "clicked", "received": "received"}
CHANNEL_LABELS = {"email": "an email", "sms": "an SMS"}
CONSENT_LABELS = {
    "subscribed": "subscribed",
    "not_subscribed": "not subscribed",
    "suppressed": "suppressed (bounced, complained or blocked)",
    "not_suppressed": "not suppressed",
}
MATCH_LABELS = {"product": "product name", "sku": "SKU", "category": "category"}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
