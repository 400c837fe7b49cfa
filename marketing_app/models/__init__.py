"""SQLModel tables by domain. Importing this package registers every table."""

from marketing_app.models.audit import AuditEntry
from marketing_app.models.credentials import ApiKey, ApiKeyKind, ProviderCredential
from marketing_app.models.customers import (
    Contact,
    ContactIdentity,
    Event,
    Order,
    OrderItem,
    WebSession,
)
from marketing_app.models.email import (
    Campaign,
    CampaignStatus,
    EmailEvent,
    EmailMessage,
    EmailTemplate,
    MessageStatus,
    OutboxMessage,
    SubscriptionPreference,
)
from marketing_app.models.jobs import JobRun, JobStatus, UploadedFile
from marketing_app.models.loyalty import (
    LedgerKind,
    LedgerSource,
    LoyaltyAccount,
    LoyaltyLedgerEntry,
    LoyaltyProgram,
    LoyaltyRedemption,
)
from marketing_app.models.loyalty_sync import (
    DiscrepancyKind,
    DiscrepancyStatus,
    ExternalLoyaltyBalance,
    LoyaltyDiscrepancy,
    ProviderCall,
    Resolution,
)
from marketing_app.models.segments import (
    Segment,
    SegmentKind,
    SegmentMember,
    SegmentMembershipChange,
    Suppression,
)
from marketing_app.models.tenants import Location, MarketingProvider, StaffMember, Tenant
from marketing_app.models.users import (
    AuthSession,
    LoginAttempt,
    LoginTicket,
    Membership,
    Role,
    User,
)

__all__ = [
    "ApiKey",
    "ApiKeyKind",
    "AuditEntry",
    "AuthSession",
    "Campaign",
    "CampaignStatus",
    "Contact",
    "ContactIdentity",
    "DiscrepancyKind",
    "DiscrepancyStatus",
    "EmailEvent",
    "EmailMessage",
    "EmailTemplate",
    "Event",
    "ExternalLoyaltyBalance",
    "JobRun",
    "JobStatus",
    "LedgerKind",
    "LedgerSource",
    "Location",
    "LoginAttempt",
    "LoginTicket",
    "LoyaltyAccount",
    "LoyaltyDiscrepancy",
    "LoyaltyLedgerEntry",
    "LoyaltyProgram",
    "LoyaltyRedemption",
    "MarketingProvider",
    "Membership",
    "MessageStatus",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "ProviderCall",
    "ProviderCredential",
    "Resolution",
    "Role",
    "Segment",
    "SegmentKind",
    "SegmentMember",
    "SegmentMembershipChange",
    "StaffMember",
    "SubscriptionPreference",
    "Suppression",
    "Tenant",
    "UploadedFile",
    "User",
    "WebSession",
]
