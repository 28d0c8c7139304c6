"""The OpenAPI schema drf-spectacular generates from the code."""

from django.core.management import call_command


def test_the_schema_generates_and_validates_without_a_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
