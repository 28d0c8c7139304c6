"""The names whose values are never revealed: not in a log line, not in a stored request's
headers."""

import re

SENSITIVE_NAMES = re.compile(
    r"authorization|secret|password|token|signature|hmac|api_key|cookie", re.I
)
# A key naming an identifier (`token_id`) is not a secret.
_IDENTIFIER_KEY = re.compile(r"_ids?$", re.I)
_REDACTED = "[redacted]"


def redacted(value, key: str = ""):
    """`value` with whatever sits under a sensitive key replaced, at any depth."""
    if key and SENSITIVE_NAMES.search(key) and not _IDENTIFIER_KEY.search(key):
        return _REDACTED
    if isinstance(value, dict):
        return {k: redacted(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value
