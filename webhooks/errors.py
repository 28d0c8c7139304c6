"""The JSON body of every error the service answers: `{"detail", "code", "errors"?}`.

`detail` says what is wrong for a person, `code` names it for a program, and `errors` (on a
422) names each field. Every view, in every app, builds its error answers here, and so do the
Django and DRF error handlers the project installs.
"""

from django.db import InterfaceError, OperationalError

# The database errors a retry can clear: it is down, unreachable, restarting, out of
# connections, or the statement lost a deadlock or a serialization race. Only these answer 503;
# a value it refuses (DataError) is the sender's to change, and anything else is our bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def error_body(detail: str, code: str, errors: dict | None = None) -> dict:
    body = {"detail": detail, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body
