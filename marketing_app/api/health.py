"""Liveness and readiness for load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from marketing_app.db import session_scope

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health() -> JSONResponse:
    try:
        with session_scope() as session:
            session.exec(text("SELECT 1"))
        database_ok = True
    except Exception:  # any failure means not ready; the body says which part
        database_ok = False
    return JSONResponse(
        {"ok": database_ok, "db": database_ok}, status_code=200 if database_ok else 503
    )
