"""Publish hooks: how an event reaches the parts that act on it without the core importing them.

`settings.EVENT_PUBLISH_HOOKS` names PublishHook subclasses; `event_publish` records each event
and runs every hook in the same transaction, so an event is never stored without its
deliveries (or its outbox row), and nothing is queued for one that rolls back.

Publishing is the hot path of every event. On PostgreSQL a hook can say what it writes as a
statement over the new event, and when every hook does, the event and all they write are one
INSERT: one round trip, with no BEGIN or COMMIT of its own outside a caller's transaction.
"""

from webhooks.models import Event

# The name a hook's statement reads the new event's row (id, owner_id, created_at …) from.
NEW_EVENT = "new_event"


class PublishHook:
    """One consumer of published events; subclasses implement `create`, and `statement` where
    they can."""

    def statement(self, *, event: Event) -> tuple[str, list] | None:
        """On PostgreSQL: a data-modifying statement (with its parameters) that reads the new
        event from NEW_EVENT and RETURNs one row per delivery it creates. None: use `create`."""
        return None

    def create(self, *, event: Event) -> int:
        """Write what the event needs, inside its transaction; returns deliveries created."""
        raise NotImplementedError

    def created(self, *, event: Event, count: int) -> None:
        """Called once the hook's rows are written, still inside the publish's transaction
        where there is one: queue work with `transaction.on_commit`."""
