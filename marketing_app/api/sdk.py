"""Serves the browser SDK at /sdk.js."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)
SDK_SOURCE = (Path(__file__).parent / "static" / "sdk.js").read_bytes()


@router.get("/sdk.js")
def sdk() -> Response:
    return Response(
        SDK_SOURCE,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
    )
