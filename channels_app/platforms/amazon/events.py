"""Amazon SP-API notification events."""

from webhooks.catalog import EventType

EVENT_TYPES = [
    EventType(
        "amazon.feed.finished",
        "Amazon finished processing a feed (SP-API FEED_PROCESSING_FINISHED).",
        {
            "feed_id": "53347018456",
            "feed_type": "POST_PRODUCT_DATA",
            "processing_status": "DONE",
            "result_feed_document_id": "amzn1.tortuga.3.edbcd0d8-3434-8222.URUTI57URI9BMZ",
            "seller_id": "A3TH9S8BH6GOGM",
        },
        "amazon",
    ),
    EventType(
        "amazon.report.finished",
        "Amazon finished processing a report (SP-API REPORT_PROCESSING_FINISHED).",
        {
            "report_id": "54517018502",
            "report_type": "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA",
            "processing_status": "DONE",
            "report_document_id": "amzn1.tortuga.3.edbcd0d8-3434-8222.REP4567URI9BMZ",
            "seller_id": "A3TH9S8BH6GOGM",
        },
        "amazon",
    ),
]
