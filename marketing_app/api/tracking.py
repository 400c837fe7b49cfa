"""Tracking API (/v1/*), compatible with Segment's HTTP API and its server libraries.

Auth: a publishable key as HTTP Basic user name (Segment's form), as a Bearer token, or
as `writeKey` in the body. A batch answers 200 even when some events are refused and
lists them, because Segment clients drop a whole batch on a 4xx.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from jobs.dispatch import enqueue_event_processing
from marketing_app.api.deps import RateLimited, key_from_request
from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError
from marketing_app.services.api_keys import publishable_key_tenant_id
from marketing_app.services.ingestion import IngestResult, ingest_messages
from marketing_app.services.rate_limits import check_rate
from marketing_app.services.tracking import MAX_BATCH_BYTES, MAX_EVENT_BYTES, from_simple_message
from marketing_app.settings import get_settings

router = APIRouter(prefix="/v1", tags=["tracking"])
# Our own simpler routes: `Authorization: Bearer pk_...` and `email` as the identifier.
simple_router = APIRouter(tags=["tracking (simple)"])


class PayloadTooLarge(DomainError):
    http_status = 413


class BadRequest(DomainError):
    """Segment answers 400 for any malformed request; clients rely on that code."""

    http_status = 400


def _decompressed(raw: bytes, encoding: str, limit: int) -> bytes:
    """The body, gunzipped if needed, never inflated past `limit` (gzip bombs stop here)."""
    if encoding.strip().lower() != "gzip":
        return raw
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise BadRequest("Body is not valid gzip.") from exc
    if len(body) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"Body larger than {limit // 1024} KB once decompressed.")
    return body


async def _read_json(request: Request, limit: int) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"Body larger than {limit // 1024} KB.")
    body = _decompressed(raw, request.headers.get("content-encoding", ""), limit)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequest("Body must be a JSON object.")
    return payload


def _tenant_id_for(request: Request, payload: dict[str, Any]):
    key = key_from_request(request) or str(payload.get("writeKey") or "")
    tenant_id = publishable_key_tenant_id(plaintext=key, open_session=session_scope)
    retry_after = check_rate(bucket=f"pk:{key[:16]}", limit=get_settings().tracking_rate_limit)
    if retry_after is not None:
        raise RateLimited(retry_after)
    return tenant_id


def _answer(result: IngestResult) -> JSONResponse:
    return JSONResponse(
        {
            "success": True,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": [
                {"index": r.index, "messageId": r.message_id, "reason": r.reason}
                for r in result.rejected
            ],
        }
    )


def _store(tenant_id, messages: list[Any], default_type: str | None, context=None) -> IngestResult:
    with session_scope() as session:
        result = ingest_messages(
            session=session,
            tenant_id=tenant_id,
            messages=messages,
            default_type=default_type,
            shared_context=context,
        )
    if result.accepted:
        enqueue_event_processing(tenant_id)
    return result


async def _many_messages(request: Request, list_key: str, translate, default_type: str | None):
    """A route that takes a list of messages under `list_key`; bad ones are listed, not fatal."""
    payload = await _read_json(request, MAX_BATCH_BYTES)
    # One hop to a thread for all the blocking work: each hop costs the event loop a wake-up.
    return await run_in_threadpool(_store_many, request, payload, list_key, translate, default_type)


def _store_many(request: Request, payload: dict[str, Any], list_key: str, translate, default_type):
    tenant_id = _tenant_id_for(request, payload)
    messages = payload.get(list_key)
    if not isinstance(messages, list):
        raise BadRequest(f"`{list_key}` must be a list of messages.", field=list_key)
    context = payload.get("context") if isinstance(payload.get("context"), dict) else None
    translated = messages if translate is None else [translate(message) for message in messages]
    return _answer(_store(tenant_id, translated, default_type, context))


@router.post("/batch", summary="Send up to 500 KB of messages of any type")
async def batch(request: Request) -> JSONResponse:
    return await _many_messages(request, "batch", None, None)


async def _one_message(request: Request, message_type: str, translate) -> JSONResponse:
    """A route that takes one message: a bad one is a 400 (there is no batch to save)."""
    payload = await _read_json(request, MAX_EVENT_BYTES)
    tenant_id = await run_in_threadpool(_tenant_id_for, request, payload)
    result = await run_in_threadpool(_store, tenant_id, [translate(payload)], message_type)
    if result.rejected:
        raise BadRequest(result.rejected[0].reason)
    return _answer(result)


def _segment_message(message_type: str):
    def translate(payload: dict[str, Any]) -> dict[str, Any]:
        # The route decides the type; the key is not part of the event.
        return {k: v for k, v in payload.items() if k != "writeKey"} | {"type": message_type}

    return translate


async def _single(request: Request, message_type: str) -> JSONResponse:
    return await _one_message(request, message_type, _segment_message(message_type))


def _single_route(message_type: str):
    async def endpoint(request: Request) -> JSONResponse:
        return await _single(request, message_type)

    endpoint.__name__ = f"track_{message_type}"
    return endpoint


for _type in ("track", "identify", "page", "screen", "group", "alias"):
    router.add_api_route(
        f"/{_type}", _single_route(_type), methods=["POST"], summary=f"Send one {_type} message"
    )


@simple_router.post("/track", summary="Track one event for a customer identified by email")
async def simple_track(request: Request) -> JSONResponse:
    return await _one_message(request, "track", lambda p: from_simple_message(p, "track"))


@simple_router.post("/identify", summary="Set traits of a customer identified by email")
async def simple_identify(request: Request) -> JSONResponse:
    return await _one_message(request, "identify", lambda p: from_simple_message(p, "identify"))


@simple_router.post("/track/batch", summary='Track many events: {"events": [...]}')
async def simple_batch(request: Request) -> JSONResponse:
    return await _many_messages(
        request, "events", lambda e: from_simple_message(e, "track"), "track"
    )
