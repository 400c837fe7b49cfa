"""Links inside emails: open pixel, click redirect, unsubscribe and the preference center.

No login anywhere: the signed token in the URL is the authority. The pixel always answers
with the image (a bad token records nothing); a bad click or unsubscribe token gets a
plain page saying the link is not valid. `POST /t/u/{token}` is the RFC 8058 one-click
unsubscribe: it acts at once and answers 200 with no redirect.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from marketing_app.api.deps import get_session
from marketing_app.api.email_pages import message_page, preferences_page
from marketing_app.domain.errors import DomainError, NotFound
from marketing_app.services.email_preferences import (
    CHANNELS,
    link_owner,
    preferences_of,
    save_preferences,
    unsubscribe_by_link,
)
from marketing_app.services.email_tracking import Visit, click_target, record_click, record_open

router = APIRouter(prefix="/t", tags=["email links"], include_in_schema=False)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}


def _visit(request: Request) -> Visit:
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    ip = forwarded or (request.client.host if request.client else "")
    return Visit(user_agent=request.headers.get("user-agent", "")[:500], ip=ip)


def _invalid(message: str = "This link is not valid.", status: int = 404) -> HTMLResponse:
    page = message_page("Link not valid", message)
    return HTMLResponse(page, status_code=status, headers=NO_STORE)


@router.get("/o/{token}.gif")
def open_pixel(token: str, request: Request, session: Session = Depends(get_session)):
    record_open(session=session, token=token, visit=_visit(request))
    session.commit()
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/c/{token}/{link_index}")
def click(token: str, link_index: int, request: Request, session: Session = Depends(get_session)):
    try:
        url = click_target(session=session, token=token, link_index=link_index)
        record_click(
            session=session, token=token, url=url, link_index=link_index, visit=_visit(request)
        )
    except NotFound as exc:
        return _invalid(exc.message)
    session.commit()
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get("/u/{token}")
def unsubscribe_page(token: str, session: Session = Depends(get_session)):
    try:
        owner = link_owner(session=session, token=token)
    except NotFound as exc:
        return _invalid(exc.message)
    body = message_page(
        f"Unsubscribe from {owner.tenant_name}",
        f"Press the button to stop marketing emails from {owner.tenant_name}.",
        form_action=f"/t/u/{token}",
        button="Unsubscribe",
        link=(f"/t/p/{token}", "Or choose which emails you get"),
    )
    return HTMLResponse(body, headers=NO_STORE)


@router.post("/u/{token}")
def unsubscribe(token: str, request: Request, session: Session = Depends(get_session)):
    one_click = request.headers.get("content-type", "").startswith("application/x-www-form")
    try:
        owner = unsubscribe_by_link(
            session=session, token=token, source="one_click" if one_click else "unsubscribe_page"
        )
    except NotFound as exc:
        return _invalid(exc.message)
    session.commit()
    body = message_page(
        "You are unsubscribed",
        f"You will get no more marketing emails from {owner.tenant_name}.",
        link=(f"/t/p/{token}", "Change your preferences"),
    )
    return HTMLResponse(body, headers=NO_STORE)


@router.get("/p/{token}")
def preferences(token: str, session: Session = Depends(get_session)):
    try:
        owner = link_owner(session=session, token=token)
    except NotFound as exc:
        return _invalid(exc.message)
    choices = preferences_of(
        session=session, tenant_id=owner.tenant_id, contact_id=owner.contact_id
    )
    return HTMLResponse(preferences_page(owner.tenant_name, token, choices), headers=NO_STORE)


@router.post("/p/{token}")
async def save(token: str, request: Request, session: Session = Depends(get_session)):
    form = await request.form()
    chosen = {(channel, str(value)) for channel in CHANNELS for value in form.getlist(channel)}
    try:
        owner = link_owner(session=session, token=token)
        choices = save_preferences(
            session=session,
            tenant_id=owner.tenant_id,
            contact_id=owner.contact_id,
            subscribed=chosen,
        )
    except DomainError as exc:
        return _invalid(exc.message, status=exc.http_status)
    session.commit()
    page = preferences_page(owner.tenant_name, token, choices, saved=True)
    return HTMLResponse(page, headers=NO_STORE)
