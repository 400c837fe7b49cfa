"""Email provider webhooks: one module per provider whose job is verify-then-parse.

Each verifies the request on its raw bytes (`WebhookSignatureError` when it fails) and turns
the body into `EmailEventIn` values (`WebhookPayloadError` when the body is not what the
provider documents; a bad event inside a batch is skipped with its reason instead). Nothing
here touches the database: services.email_webhooks finds the tenant's keys and applies the
events.
"""
