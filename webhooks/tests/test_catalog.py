import pytest

from webhooks.catalog import is_valid_pattern, matches_any, patterns_matching


def test_patterns_matching_lists_the_type_every_prefix_wildcard_and_star():
    assert patterns_matching("calendar.event.created") == [
        "*",
        "calendar.event.created",
        "calendar.*",
        "calendar.event.*",
    ]


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "task.created", True),
        (["task.created"], "task.created", True),
        (["task.*"], "task.created", True),
        (["calendar.*"], "calendar.event.created", True),
        (["calendar.event.*"], "calendar.event.created", True),
        (["cal.*"], "calendar.event.created", False),
        (["task.created"], "task.updated", False),
        (["task"], "task.created", False),
        ([], "task.created", False),
    ],
)
def test_matches_any(patterns, event_type, expected):
    assert matches_any(patterns, event_type) is expected


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("*", True),
        ("task.completed", True),
        ("task.*", True),
        ("calendar.event.*", True),
        ("task.exploded", False),
        ("nothing.*", False),
        ("task", False),
    ],
)
def test_valid_patterns_name_or_cover_catalog_types(pattern, valid):
    assert is_valid_pattern(pattern) is valid
