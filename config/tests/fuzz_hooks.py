"""schemathesis hooks for config/tests/test_api_fuzz.py, loaded by path (SCHEMATHESIS_HOOKS) in
the schemathesis process: nothing here may import the project.

1. Some 422s answer schema-valid requests rightly: the server checks what no JSON Schema can
   say (the event catalog, uniqueness, one field required with another). Such a failure is
   dropped only when every field the 422 names is listed below for its operation, with why;
   any other field, or any other status, still fails the run.
2. Registering with Shopify answers 502 when Shopify fails and 503 without WEBHOOK_BASE_URL, as
   documented; this server has no Shopify to reach (and no public address), so those answers,
   and only with those codes, are no server error.
3. Every subscription URL the fuzzer sends gets an `.invalid` host (RFC 6761: never resolves),
   so that a test send reaches no other machine even where DNS works.
"""

import json
import re
from urllib.parse import urlsplit

import schemathesis

CURSOR = "only the `next` and `previous` links hold a cursor; a made-up string is none"
CATALOG = "an event type must be in the catalog (or one of the caller's sources): no enum"
ENDPOINT = "an endpoint must be https and public in production, checked on its resolved address"
FILTER = "the filter language (operators, paths) is checked beyond its JSON shape"
HEADERS = "signature, webhook-*, hop-by-hop and other reserved header names are refused"
SOURCE = (
    "a platform must be a built-in one or a source name that collides with no route or "
    "built-in event type, and a source needs a verification, its header and its secret"
)
TAKEN = "one account per platform and identifier"
WINDOW = "the window must end after it starts and span at most 30 days"
REGISTRABLE = "only a Shopify account with an API token and a *.myshopify.com domain registers"
WEBHOOK_FIELDS = {"event_types": CATALOG, "url": ENDPOINT, "filter": FILTER, "headers": HEADERS}
CHANNEL_FIELDS = dict.fromkeys(("platform", "verification", "signature_header", "secret"), SOURCE)

CHECKED_BEYOND_THE_SCHEMA = {
    "GET /api/channels": {"cursor": CURSOR},
    "GET /api/events": {"cursor": CURSOR},
    "GET /api/inbound-events": {"cursor": CURSOR},
    "GET /api/webhooks": {"cursor": CURSOR},
    "GET /api/webhooks/{id}/deliveries": {"cursor": CURSOR},
    "POST /api/events": {"event_type": CATALOG},
    "POST /api/webhooks": WEBHOOK_FIELDS,
    "PATCH /api/webhooks/{id}": WEBHOOK_FIELDS,
    "POST /api/channels": {**CHANNEL_FIELDS, "external_id": TAKEN},
    "PATCH /api/channels/{id}": {**CHANNEL_FIELDS, "external_id": TAKEN},
    "POST /api/inbound-events/reprocess": {"non_field_errors": "`ids`, or else a `status`"},
    "POST /api/webhooks/{id}/recover": {"until": WINDOW},
    "POST /api/webhooks/{id}/replay-missing": {"since": WINDOW, "until": WINDOW},
    "POST /api/webhooks/register/{account_id}": dict.fromkeys(
        ("platform", "api_token", "external_id"), REGISTRABLE
    ),
}
NOT_OURS = {
    "POST /api/webhooks/register/{account_id}": {
        "shopify_error",
        "shopify_unreachable",
        "receiver_url_unset",
    },
}
SCHEMA_VALID_REQUEST_REJECTED = "ST202"
SERVER_ERROR = "ST101"


@schemathesis.hook
def filter_failure(context, failure, case, response):
    operation = f"{case.method.upper()} {case.operation.path}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return True
    if not isinstance(body, dict):
        return True
    if failure.code == SERVER_ERROR and response.status_code in (502, 503):
        return body.get("code") not in NOT_OURS.get(operation, ())
    if failure.code == SCHEMA_VALID_REQUEST_REJECTED and response.status_code == 422:
        named = set(body.get("errors") or ())
        return not (named and named <= set(CHECKED_BEYOND_THE_SCHEMA.get(operation, ())))
    return True


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path.startswith("/api/webhooks") and isinstance(case.body, dict):
        url = case.body.get("url")
        if isinstance(url, str):
            case.body["url"] = _unresolvable(url)


def _unresolvable(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return url
    if not host or host.endswith(".invalid"):
        return url
    return re.sub(re.escape(host), f"{host}.invalid", url, count=1, flags=re.IGNORECASE)
