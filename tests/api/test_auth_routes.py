"""The HTTP half of login: the ticket becomes an HttpOnly cookie; logout clears it."""

from __future__ import annotations

from marketing_app import routes
from marketing_app.services import auth
from tests.factories import PASSWORD, make_user


def test_ticket_sets_an_httponly_session_cookie_and_redirects_to_next(client, session, tenant):
    user = make_user(session, tenant)
    ticket = auth.login(session=session, email=user.email, password=PASSWORD)
    response = client.get(
        routes.login_complete_url(ticket, f"/t/{tenant.slug}/settings"), follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{tenant.slug}/settings"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{routes.SESSION_COOKIE}=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    token = response.cookies[routes.SESSION_COOKIE]
    assert auth.user_for_token(session=session, token=token).id == user.id


def test_used_or_forged_ticket_goes_back_to_login(client, session, tenant):
    user = make_user(session, tenant)
    ticket = auth.login(session=session, email=user.email, password=PASSWORD)
    client.get(routes.login_complete_url(ticket, "/"), follow_redirects=False)
    for bad in (ticket, "forged"):
        again = client.get(routes.login_complete_url(bad, "/"), follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"] == "/login?expired=1"
        assert "set-cookie" not in again.headers


def test_next_cannot_send_the_user_to_another_site(client, session, tenant):
    user = make_user(session, tenant)
    for target in ("https://evil.example/", "//evil.example/x", "/login"):
        ticket = auth.login(session=session, email=user.email, password=PASSWORD)
        url = f"{routes.LOGIN_COMPLETE}?ticket={ticket}&next={target}"
        assert client.get(url, follow_redirects=False).headers["location"] == "/"


def test_logout_ends_the_session_and_clears_the_cookie(client, session, tenant):
    user = make_user(session, tenant)
    ticket = auth.login(session=session, email=user.email, password=PASSWORD)
    token = auth.redeem_login_ticket(session=session, ticket=ticket)
    client.cookies.set(routes.SESSION_COOKIE, token)
    response = client.get(routes.LOGOUT, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == routes.LOGIN
    assert f'{routes.SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert auth.user_for_token(session=session, token=token) is None
