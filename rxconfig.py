"""Reflex configuration; every value comes from marketing_app.settings."""

import reflex as rx

from marketing_app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="marketing_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=settings.port,
    backend_port=settings.port,
    cors_allowed_origins=tuple(o.strip() for o in settings.cors_origins.split(",")),
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
    ],
)
