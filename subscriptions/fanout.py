"""Fan-out: the publish hook that turns an event into one delivery per matching subscription.

Publishing is the hot path of every event, so on PostgreSQL the deliveries are selected and
inserted by one statement inside the event's own INSERT (webhooks.publishing): an event to
1,000 subscriptions is one round trip, not one task or one query per subscription; type,
channels and payload filter (subscriptions.filters) are all conditions of that statement. A
pump is woken once the event commits: one message for the event, however many it made.

An operational event (subscriptions.operational) never goes to the subscription it is about,
so an endpoint cannot feed on its own failures; only those events carry that extra condition.
"""

from django.db import transaction

from subscriptions import operational
from subscriptions.delivery import wire
from subscriptions.delivery.dispatch import deliveries_wake
from subscriptions.models import Delivery, Subscription
from subscriptions.services import subscription_wants
from webhooks import catalog
from webhooks.models import Event
from webhooks.publishing import NEW_EVENT, PublishHook

Status = Delivery.Status


class DeliveryFanOut(PublishHook):
    def statement(self, *, event: Event) -> tuple[str, list]:
        about = operational.subject_subscription_id(event)
        sql = f"""
            INSERT INTO {Delivery._meta.db_table}
                (event_id, subscription_id, status, attempt_count, next_attempt_at, last_error,
                 created_at, updated_at)
            SELECT {NEW_EVENT}.id, s.id, %s, 0, {NEW_EVENT}.created_at, '',
                   {NEW_EVENT}.created_at, {NEW_EVENT}.created_at
            FROM {NEW_EVENT} JOIN {Subscription._meta.db_table} s
                ON s.owner_id = {NEW_EVENT}.owner_id
            WHERE s.is_active AND s.deleted_at IS NULL AND s.event_types ?| %s
                AND (s.channels = '[]'::jsonb OR s.channels ?| %s)
                AND (s.filter_path = '' OR jsonb_path_match(
                    jsonb_build_object(
                        'id', {NEW_EVENT}.public_id, 'event_type', {NEW_EVENT}.event_type,
                        'created_at', %s::text, 'data', {NEW_EVENT}.data
                    ),
                    s.filter_path::jsonpath, '{{}}', true
                ))
                {"AND s.id <> %s" if about is not None else ""}
            RETURNING subscription_id
        """  # noqa: S608  (table names from model metadata, values as parameters)
        params = [
            Status.PENDING,
            catalog.patterns_matching(event.event_type),
            event.channels,
            wire.timestamp(event),
        ]
        return sql, params if about is None else [*params, about]

    def create(self, *, event: Event) -> int:
        candidates = Subscription.objects.filter(
            owner_id=event.owner_id, is_active=True, deleted_at__isnull=True
        ).only("pk", "event_types", "channels", "filter")
        subscription_ids = [
            subscription.pk
            for subscription in candidates
            if subscription_wants(subscription=subscription, event=event)
        ]
        Delivery.objects.bulk_create(
            Delivery(event=event, subscription_id=pk, next_attempt_at=event.created_at)
            for pk in subscription_ids
        )
        return len(subscription_ids)

    def created(self, *, event: Event, count: int) -> None:
        if count:
            transaction.on_commit(deliveries_wake, robust=True)
