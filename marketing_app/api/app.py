"""The FastAPI app mounted in front of Reflex (built by a factory: see REFLEX.md P15)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from marketing_app.api import (
    auth,
    campaigns,
    email_links,
    email_webhooks,
    health,
    loyalty,
    loyalty_reconciliation,
    management,
    profiles,
    rfm,
    sdk,
    segment_members,
    segments,
    tracking,
)
from marketing_app.api.deps import RateLimited
from marketing_app.domain.errors import DomainError, LoginThrottled

API_DESCRIPTION = """Management API of the marketing platform.

Authenticate with a tenant's secret key: `Authorization: Bearer sk_...`.
Publishable keys (`pk_...`) are for the tracking API only and are refused here.
"""


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, LoginThrottled):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"detail": exc.message, "field": exc.field}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": "Invalid request.", "errors": errors}, status_code=422)


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (a NUL character, a number out of range): the client's
    input, so a 422 that says so rather than a 500."""
    assert isinstance(exc, DataError)
    detail = "A value cannot be stored (for example a NUL character or a number out of range)."
    return JSONResponse({"detail": detail, "field": None}, status_code=422)


def create_api() -> FastAPI:
    api = FastAPI(
        title="Marketing platform API",
        description=API_DESCRIPTION,
        version="1.0",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    api.add_exception_handler(DomainError, _domain_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(DataError, _data_error)
    # Routes match in order, ~100 µs to walk them all: the tracking API takes nearly every
    # request (one per storefront event from the JS SDK), so it is tried first.
    api.include_router(tracking.router)
    api.include_router(tracking.simple_router)
    api.include_router(health.router)
    api.include_router(auth.router)
    api.include_router(management.router)
    api.include_router(profiles.router)
    api.include_router(segments.router)
    api.include_router(segment_members.router)
    api.include_router(rfm.router)
    api.include_router(loyalty.router)
    api.include_router(loyalty.alias_router)
    api.include_router(loyalty_reconciliation.router)
    api.include_router(sdk.router)
    api.include_router(email_links.router)
    api.include_router(campaigns.router)
    api.include_router(campaigns.vendor_router)
    api.include_router(email_webhooks.router)
    return api
