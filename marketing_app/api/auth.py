"""Browser session cookie: set from a login ticket and cleared on logout, HttpOnly both ways."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from marketing_app import routes
from marketing_app.api.deps import get_session
from marketing_app.services import auth
from marketing_app.settings import get_settings

router = APIRouter(prefix="/api/auth", tags=["auth"], include_in_schema=False)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/complete")
def complete_login(
    request: Request, ticket: str = "", next: str = "/", session: Session = Depends(get_session)
) -> RedirectResponse:
    token = auth.redeem_login_ticket(session=session, ticket=ticket)
    if token is None:
        return _redirect(f"{routes.LOGIN}?expired=1")
    response = _redirect(routes.safe_next_path(next))
    response.set_cookie(
        routes.SESSION_COOKIE,
        token,
        max_age=get_settings().session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/logout")
def logout(request: Request, session: Session = Depends(get_session)) -> RedirectResponse:
    auth.logout(session=session, token=request.cookies.get(routes.SESSION_COOKIE, ""))
    response = _redirect(routes.LOGIN)
    response.delete_cookie(routes.SESSION_COOKIE, path="/")
    return response
