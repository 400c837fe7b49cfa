"""Alpine IQ client: campaigns, audiences, stores, loyalty settings and profiles, contacts,
sales, discounts and opt-in, over Alpine IQ's v1.1/v2 REST API.

Routes and field names follow Alpine IQ's public developer documentation where it shows
them (`X-APIKEY` header, the account `uid` in v1.1 paths, `{"success", "data"}` envelopes,
`/api/v2/wallet` with `loyaltyPoints`, paged `/api/v1.1/piis/{uid}`); the fake in
tests/fakes/alpineiq_server.py serves the same shapes. The account allows 2,000 requests an
hour: the limiter is shared by every process through Redis when `limiter_storage_uri` is a
redis:// URL (pass settings.redis_url), in memory otherwise. `on_call` sees every HTTP attempt
(method, route template, status, duration, outcome), so the caller can keep a sync log free
of phone numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Unpack

from pydantic import Field, ValidationError, field_validator

from marketing_app.domain.errors import ProviderBadData, ProviderRejected
from marketing_app.providers.http import (
    ClientOptions,
    ProviderClient,
    collect_pages,
    iter_pages,
)
from marketing_app.providers.wire import (
    ExternalId,
    FetchResult,
    OptionalText,
    Page,
    UtcDatetime,
    WireModel,
    describe_invalid,
    parse_records,
)

PROVIDER = "alpineiq"
DEFAULT_BASE_URL = "https://lab.alpineiq.com"
DEFAULT_RATE_LIMITS = "2000/hour"  # Alpine IQ's documented allowance per account
CONTACTS_PAGE_SIZE = 2000  # the piis endpoint's maximum: 1,000 customers in one call

CAMPAIGNS_ROUTE = "/api/v2/campaigns"
AUDIENCES_ROUTE = "/api/v1.1/audiences/{uid}"
STORES_ROUTE = "/api/v1.1/stores/{uid}"
LOYALTY_SETTINGS_ROUTE = "/api/v2/loyalty/default/{uid}"
WALLET_ROUTE = "/api/v2/wallet"
LOYALTY_LOOKUP_ROUTE = "/api/v2/loyalty/lookup/{pii}"
CONTACTS_ROUTE = "/api/v1.1/piis/{uid}"
CONTACT_UPSERT_ROUTE = "/api/v2/loyalty"
OPT_IN_ROUTE = "/api/v2/optin"
SALE_ROUTE = "/api/v1.1/createUpdateSale/{uid}"
DISCOUNT_GROUPS_ROUTE = "/api/v2/discount/groups"
REDEMPTIONS_ROUTE = "/api/v1.1/discountRedemptions/{uid}/{start}/{end}"


class AiqCampaign(WireModel):
    id: ExternalId
    name: str = ""
    kind: OptionalText = Field(default=None, alias="type")
    status: OptionalText = None


class AiqAudience(WireModel):
    id: ExternalId
    name: str = ""
    size: int | None = Field(default=None, alias="audienceSize")


class AiqStore(WireModel):
    id: ExternalId
    name: str = ""
    nickname: OptionalText = None


class AiqTier(WireModel):
    points: int = Field(ge=0)  # balance that unlocks the reward
    discount_percent: Decimal = Field(alias="discount", ge=0, le=100)
    name: OptionalText = None


class AiqLoyaltySettings(WireModel):
    name: str = ""
    points_per_dollar: Decimal = Field(default=Decimal(1), alias="accrual", ge=0)
    expiration_days: int | None = Field(default=None, alias="expiration")
    tiers: list[AiqTier] = Field(default_factory=list)

    @field_validator("tiers")
    @classmethod
    def _by_points(cls, tiers: list[AiqTier]) -> list[AiqTier]:
        return sorted(tiers, key=lambda tier: tier.points)

    def tier_for(self, points: int) -> AiqTier | None:
        """The highest tier a balance reaches, or None below the first."""
        reached = [tier for tier in self.tiers if tier.points <= points]
        return reached[-1] if reached else None


class AiqReward(WireModel):
    id: ExternalId
    name: str = ""
    points_required: int | None = Field(default=None, alias="pointsDeduct")


class AiqLoyaltyProfile(WireModel):
    """A customer's loyalty wallet: balance, unlocked rewards and (given settings) tier."""

    contact_id: OptionalText = Field(default=None, alias="contactID")
    points: int = Field(alias="loyaltyPoints", ge=0)
    points_hidden: bool = Field(default=False, alias="hidePointsInWallet")
    rewards: list[AiqReward] = Field(default_factory=list, alias="discountTemplates")
    tier: AiqTier | None = None


class AiqLoyaltyStatus(WireModel):
    contact_id: OptionalText = Field(default=None, alias="contactID")
    is_member: bool = Field(default=False, alias="loyalty")
    opted_in: bool = Field(default=False, alias="optedIn")


class AiqContact(WireModel):
    contact_id: ExternalId = Field(alias="contactID")
    first_name: OptionalText = Field(default=None, alias="firstName")
    last_name: OptionalText = Field(default=None, alias="lastName")
    phone: OptionalText = Field(default=None, alias="mobilePhone")
    email: OptionalText = None
    points: int | None = Field(default=None, alias="loyaltyPoints", ge=0)
    is_member: bool | None = Field(default=None, alias="loyalty")
    inserted_at: UtcDatetime | None = Field(default=None, alias="inserted")


class AiqDiscountGroup(WireModel):
    id: ExternalId
    name: str = ""


class AiqRedemption(WireModel):
    id: ExternalId
    contact_id: OptionalText = Field(default=None, alias="contactID")
    discount_name: OptionalText = Field(default=None, alias="name")
    redeemed_at: UtcDatetime | None = Field(default=None, alias="ts")


@dataclass(frozen=True, slots=True)
class AiqContactUpsert:
    phone: str | None
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    loyalty_member: bool = True
    favorite_store_id: str | None = None


@dataclass(frozen=True, slots=True)
class AiqSaleLine:
    sku: str
    name: str
    category: str
    quantity: int
    price_cents: int


@dataclass(frozen=True, slots=True)
class AiqSale:
    order_id: str
    sold_at: datetime
    total_cents: int
    location: str
    phone: str | None = None
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    in_store: bool = True
    lines: Sequence[AiqSaleLine] = field(default_factory=tuple)


class AlpineIQClient(ProviderClient):
    """One Alpine IQ account (`uid` plus API key)."""

    provider = PROVIDER

    def __init__(
        self,
        *,
        api_key: str,
        uid: str,
        base_url: str = DEFAULT_BASE_URL,
        rate_limits: str | None = DEFAULT_RATE_LIMITS,
        contacts_page_size: int = CONTACTS_PAGE_SIZE,
        page_concurrency: int = 2,
        timeout_seconds: float = 15.0,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            base_url=base_url,
            headers={"X-APIKEY": api_key},
            account=f"{base_url}|{uid}|{api_key}",
            rate_limits=rate_limits,
            timeout_seconds=timeout_seconds,
            **options,
        )
        self.uid = uid
        self.contacts_page_size = contacts_page_size
        self.page_concurrency = page_concurrency

    def list_campaigns(self) -> FetchResult[AiqCampaign]:
        return self._listing("GET", CAMPAIGNS_ROUTE, AiqCampaign)

    def list_audiences(self) -> FetchResult[AiqAudience]:
        return self._listing("GET", AUDIENCES_ROUTE, AiqAudience, uid=True)

    def list_stores(self) -> FetchResult[AiqStore]:
        return self._listing("GET", STORES_ROUTE, AiqStore, uid=True, key="stores")

    def list_discount_groups(self) -> FetchResult[AiqDiscountGroup]:
        return self._listing("GET", DISCOUNT_GROUPS_ROUTE, AiqDiscountGroup)

    def list_discount_redemptions(
        self, *, start: datetime, end: datetime
    ) -> FetchResult[AiqRedemption]:
        window = {"start": int(start.timestamp()), "end": int(end.timestamp())}
        return self._listing("GET", REDEMPTIONS_ROUTE, AiqRedemption, uid=True, **window)

    def get_loyalty_settings(self) -> AiqLoyaltySettings:
        data = self._data("GET", LOYALTY_SETTINGS_ROUTE, path_params={"uid": self.uid})
        return _one(AiqLoyaltySettings, data, "loyalty settings")

    def get_loyalty_profile(
        self,
        phone: str | None = None,
        *,
        email: str | None = None,
        settings: AiqLoyaltySettings | None = None,
    ) -> AiqLoyaltyProfile | None:
        """The wallet of the customer with this phone (or, given no phone, this email); None
        when Alpine IQ has no such contact.

        With `settings` (read once per sync) the profile carries the tier its balance reaches.
        """
        if not phone and not email:
            raise ValueError("a loyalty profile is looked up by phone or email")
        body = {"phone": phone} if phone else {"email": email}
        data = self._data_or_none("POST", WALLET_ROUTE, json=body)
        if data is None:
            return None
        profile = _one(AiqLoyaltyProfile, data, "loyalty profile")
        if settings is not None:
            profile = profile.model_copy(update={"tier": settings.tier_for(profile.points)})
        return profile

    def get_loyalty_status(self, phone_or_email: str) -> AiqLoyaltyStatus | None:
        """Whether a phone or email belongs to a loyalty member / opted-in contact."""
        path_params = {"pii": phone_or_email}
        data = self._data_or_none("GET", LOYALTY_LOOKUP_ROUTE, path_params=path_params)
        return None if data is None else _one(AiqLoyaltyStatus, data, "loyalty status")

    def iter_contact_pages(self) -> Iterator[Page[AiqContact]]:
        """Every contact with its points, `contacts_page_size` per call."""
        served_limit = self.contacts_page_size

        def fetch(number: int) -> Page[AiqContact]:
            nonlocal served_limit
            start = (number - 1) * served_limit
            page, limit = self._fetch_contacts(number, start, served_limit)
            if number == 1:  # the server may serve fewer per page than asked
                served_limit = limit
            return page

        return iter_pages(fetch, concurrency=self.page_concurrency)

    def list_contacts(self) -> FetchResult[AiqContact]:
        return collect_pages(self.iter_contact_pages(), self._http)

    def upsert_contact(self, contact: AiqContactUpsert) -> str:
        """Create or update a contact (by phone/email); returns its Alpine IQ contact id."""
        body = {
            "uid": self.uid,
            "mobilePhone": contact.phone,
            "email": contact.email,
            "firstName": contact.first_name,
            "lastName": contact.last_name,
            "loyalty": contact.loyalty_member,
            "favoriteStoreID": contact.favorite_store_id,
        }
        data = self._data("POST", CONTACT_UPSERT_ROUTE, json=body)
        contact_id = data.get("contactID") if isinstance(data, dict) else None
        if not contact_id:
            raise ProviderBadData("contact answer without contactID", provider=PROVIDER)
        return str(contact_id)

    def set_sms_opt_in(self, *, phone: str, opted_in: bool, double_opt_in: bool = False) -> None:
        """Set a phone's SMS opt-in; `double_opt_in` sends it through the confirmation text."""
        params = {"doubleopt": "true"} if double_opt_in else None
        self._data("PUT", OPT_IN_ROUTE, params=params, json={"phone": phone, "optin": opted_in})

    def record_sale(self, sale: AiqSale) -> None:
        """Create or update one sale (by order id) so Alpine IQ accrues its points."""
        self._data("POST", SALE_ROUTE, path_params={"uid": self.uid}, json=_sale_body(sale))

    def _fetch_contacts(self, number: int, start: int, limit: int) -> tuple[Page[AiqContact], int]:
        path_params = {"uid": self.uid}
        params = {"start": start, "limit": limit}
        data = self._data("GET", CONTACTS_ROUTE, path_params=path_params, params=params)
        try:
            total = int(data["total"])
            served = int(data.get("limit") or limit)
            results = data["results"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderBadData(
                "contacts answer without results/total", provider=PROVIDER
            ) from exc
        records, skipped = parse_records(
            results, AiqContact, provider=PROVIDER, id_field="contactID"
        )
        pages = math.ceil(total / served) if served > 0 else 1
        return Page(number, records, skipped, pages, total), served

    def _listing(
        self,
        method: str,
        route: str,
        model: type[Any],
        *,
        uid: bool = False,
        key: str = "",
        **path_params: Any,
    ) -> FetchResult[Any]:
        if uid:
            path_params["uid"] = self.uid
        calls_before = self._http.calls_made
        data = self._data(method, route, path_params=path_params)
        if key and isinstance(data, dict):
            data = data.get(key)
        records, skipped = parse_records(data, model, provider=PROVIDER, id_field="id")
        return FetchResult(records, skipped, 1, self._http.calls_made - calls_before)

    def _data(self, method: str, route: str, **request: Any) -> Any:
        body = self._http.request_json(method, route, **request)
        if body is None:
            return None
        if not isinstance(body, dict):
            raise ProviderBadData(f"{method} {route}: answer is not an object", provider=PROVIDER)
        if body.get("success") is False:
            errors = body.get("errors") or [{}]
            message = errors[0].get("message") if isinstance(errors[0], dict) else None
            raise ProviderRejected(f"{method} {route}: {message or 'refused'}", provider=PROVIDER)
        return body.get("data")

    def _data_or_none(self, method: str, route: str, **request: Any) -> Any:
        try:
            return self._data(method, route, **request)
        except ProviderRejected as exc:
            if exc.status == 404:
                return None
            raise


def _one(model: type[Any], data: Any, what: str) -> Any:
    if not isinstance(data, dict):
        raise ProviderBadData(f"{what} answer without a data object", provider=PROVIDER)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProviderBadData(f"{what}: {describe_invalid(exc)}", provider=PROVIDER) from exc


def _dollars(cents: int) -> float:
    """Cents as the JSON number of dollars the API takes; only the wire sees it as a float."""
    return float(Decimal(cents) / 100)


def _sale_body(sale: AiqSale) -> dict[str, Any]:
    return {
        "member": {
            "email": sale.email,
            "mobilePhone": sale.phone,
            "firstName": sale.first_name,
            "lastName": sale.last_name,
        },
        "visit": {
            "pos_id": sale.order_id,
            "pos_type": "in-store" if sale.in_store else "online",
            "transaction_date": sale.sold_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000"),
            "location": sale.location,
            "transaction_total": _dollars(sale.total_cents),
            "visit_details_attributes": [
                {
                    "sku": line.sku,
                    "name": line.name,
                    "category": line.category,
                    "quantity": line.quantity,
                    "price": _dollars(line.price_cents),
                }
                for line in sale.lines
            ],
        },
    }
