"""Reading /metrics in tests: the exposition parsed by prometheus_client's own parser."""

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    def __init__(self, text: str):
        self.samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a series not exposed (yet), as for a counter not yet
        incremented."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def __contains__(self, name: str) -> bool:
        return any(sample_name == name for sample_name, _ in self.samples)


def scrape(client) -> Scrape:
    """/metrics through Django's test client (or anything with the same `get`)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return Scrape(response.content.decode())
