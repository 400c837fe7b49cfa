"""Alleaves-style POS client: paged orders and customers for the loyalty order sync.

Wire format (served by the fake in tests/fakes/alleaves_server.py):
- `GET /api/v1/orders?updated_since=<ISO 8601>&page=<n>&limit=<m>` and the same for
  `/api/v1/customers`; lists answer `{"data": [...], "pagination": {"page", "limit",
  "total", "pages"}}`, oldest update first. `GET /api/v1/customers/{id}` answers `{"data": {...}}`.
- `Authorization: Bearer <api key>`; amounts in dollars (numbers or strings); times ISO 8601
  with an offset.

Records are validated one by one: an order with a negative or missing total, an unknown
status or broken items is skipped with its reason while the rest of the page comes through.
A page that is not JSON or lacks its pagination raises `ProviderBadData`: the caller keeps its
watermark, so the next sync asks for the same orders again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, Unpack

from pydantic import Field, ValidationError, field_validator

from marketing_app.domain.errors import ProviderBadData, ProviderRejected
from marketing_app.providers.http import (
    ClientOptions,
    ProviderClient,
    collect_pages,
    iter_pages,
)
from marketing_app.providers.wire import (
    Cents,
    ExternalId,
    FetchResult,
    NonNegativeCents,
    OptionalText,
    Page,
    UtcDatetime,
    WireModel,
    describe_invalid,
    parse_records,
)

PROVIDER = "alleaves"
ORDERS_ROUTE = "/api/v1/orders"
CUSTOMERS_ROUTE = "/api/v1/customers"
CUSTOMER_ROUTE = "/api/v1/customers/{customer_id}"
DEFAULT_PAGE_SIZE = 500  # records per call, the provider's maximum: fewest calls per sync
DEFAULT_PAGE_CONCURRENCY = 4  # pages in flight at once after the first; the limiter still rules
DEFAULT_RATE_LIMITS = "10/second"

OrderStatus = Literal["completed", "refunded", "cancelled"]
_STATUS_SPELLINGS = {"canceled": "cancelled", "complete": "completed"}


class PosLineItem(WireModel):
    sku: str = Field(max_length=100)
    name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=100)
    quantity: int = Field(gt=0)
    price_cents: NonNegativeCents = Field(alias="price")  # unit price


class PosLoyalty(WireModel):
    """A loyalty movement the POS recorded on an order, e.g. a points redemption."""

    kind: str = Field(alias="type", max_length=30)
    points: int = 0
    amount_cents: Cents = Field(default=0, alias="amount")


class PosOrder(WireModel):
    id: ExternalId
    customer_id: ExternalId | None = None
    customer_phone: OptionalText = None
    customer_email: OptionalText = None
    location_id: ExternalId | None = None
    subtotal_cents: NonNegativeCents = Field(alias="subtotal")
    loyalty_discount_cents: NonNegativeCents = Field(default=0, alias="loyalty")
    total_cents: NonNegativeCents = Field(alias="total")
    points_earned: int | None = None  # what the POS says it awarded; often null
    loyalties: list[PosLoyalty] = Field(default_factory=list)
    items: list[PosLineItem] = Field(default_factory=list)
    status: OrderStatus
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @field_validator("loyalty_discount_cents", mode="before")
    @classmethod
    def _no_discount(cls, value: Any) -> Any:
        return 0 if value is None else value

    @field_validator("loyalties", mode="before")
    @classmethod
    def _no_loyalties(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return _STATUS_SPELLINGS.get(value, value)
        return value


class PosCustomer(WireModel):
    id: ExternalId
    first_name: OptionalText = None
    last_name: OptionalText = None
    phone: OptionalText = None
    email: OptionalText = None
    alpine_user_code: OptionalText = None  # the customer's Alpine IQ contact, when linked
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class AlleavesClient(ProviderClient):
    """Reads one POS account: all orders or customers updated since a time, page by page.

    For the next incremental sync pass the start time of this one (less a minute or so):
    records updated while pages were being read can move between pages, and replaying an
    order is harmless downstream (ledger entries are unique per order).
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        rate_limits: str | None = DEFAULT_RATE_LIMITS,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_concurrency: int = DEFAULT_PAGE_CONCURRENCY,
        timeout_seconds: float = 10.0,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            account=f"{base_url}|{api_key}",
            rate_limits=rate_limits,
            timeout_seconds=timeout_seconds,
            **options,
        )
        self.page_size = page_size
        self.page_concurrency = page_concurrency

    def iter_order_pages(
        self, *, updated_since: datetime | None = None
    ) -> Iterator[Page[PosOrder]]:
        """Pages of orders updated at or after `updated_since`, in order (for a progress bar)."""
        fetch = partial(self._fetch_page, ORDERS_ROUTE, PosOrder, _iso(updated_since))
        return iter_pages(fetch, concurrency=self.page_concurrency)

    def list_orders(self, *, updated_since: datetime | None = None) -> FetchResult[PosOrder]:
        return collect_pages(self.iter_order_pages(updated_since=updated_since), self._http)

    def iter_customer_pages(
        self, *, updated_since: datetime | None = None
    ) -> Iterator[Page[PosCustomer]]:
        fetch = partial(self._fetch_page, CUSTOMERS_ROUTE, PosCustomer, _iso(updated_since))
        return iter_pages(fetch, concurrency=self.page_concurrency)

    def list_customers(self, *, updated_since: datetime | None = None) -> FetchResult[PosCustomer]:
        return collect_pages(self.iter_customer_pages(updated_since=updated_since), self._http)

    def get_customer(self, customer_id: str) -> PosCustomer | None:
        """One customer, or None when the POS does not know the id."""
        try:
            body = self._http.request_json(
                "GET", CUSTOMER_ROUTE, path_params={"customer_id": customer_id}
            )
        except ProviderRejected as exc:
            if exc.status == 404:
                return None
            raise
        record = body.get("data") if isinstance(body, dict) else None
        if not isinstance(record, dict):
            raise ProviderBadData("customer answer without a data object", provider=PROVIDER)
        try:
            return PosCustomer.model_validate(record)
        except ValidationError as exc:
            message = f"customer {customer_id[:40]}: {describe_invalid(exc)}"
            raise ProviderBadData(message, provider=PROVIDER) from exc

    def _fetch_page(
        self, route: str, model: type[Any], updated_since: str | None, number: int
    ) -> Page[Any]:
        params: dict[str, Any] = {"page": number, "limit": self.page_size}
        if updated_since:
            params["updated_since"] = updated_since
        body = self._http.request_json("GET", route, params=params)
        return _parse_page(body, model, number)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware (UTC)")
    return moment.astimezone(UTC).isoformat()


def _parse_page(body: Any, model: type[Any], number: int) -> Page[Any]:
    pagination = body.get("pagination") if isinstance(body, dict) else None
    if not isinstance(pagination, dict):
        raise ProviderBadData("list answer without pagination", provider=PROVIDER)
    try:
        total_records = int(pagination["total"])
        total_pages = int(pagination["pages"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderBadData("pagination without total/pages", provider=PROVIDER) from exc
    records, skipped = parse_records(body.get("data"), model, provider=PROVIDER, id_field="id")
    return Page(number, records, skipped, total_pages, total_records)
