"""The layers read top-down: config wires the apps, and the data flows one way, from
channels_app (inbound) through the event core (webhooks) to subscriptions (outbound).

No module imports a layer above it or an app beside it; what two layers share lives in the
lower one. Read from each module's syntax tree, so an import inside a function counts too.
"""

import ast

import pytest

from conftest import BASE_DIR

IMPORTING_CALLS = {"import_module", "import_string", "__import__"}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every absolute import in `source`, wherever it stands, and of
    every module named by a literal to import_module, import_string or __import__."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _called_name(node) in IMPORTING_CALLS:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def violations(app: str, forbidden: set[str], *, tests: bool) -> list[str]:
    root = BASE_DIR / app
    paths = [
        path
        for path in sorted(root.rglob("*.py"))
        if tests or "tests" not in path.relative_to(root).parts
    ]
    assert paths, f"no module found under {root}"
    found = []
    for path in paths:
        for line, module in imported_modules(path.read_text()):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(BASE_DIR)}:{line} imports {module}")
    return found


def test_the_event_core_imports_neither_the_wiring_nor_either_direction():
    assert violations("webhooks", {"config", "subscriptions", "channels_app"}, tests=True) == []


# The apps' tests exercise the assembled project: an inbound webhook is followed to the
# delivery it causes, a worker runs the project's Celery app, a page is scraped through the
# project's URLs. The code that runs is held to the rule; the core's tests above are too.
@pytest.mark.parametrize(
    ("app", "forbidden"),
    [("subscriptions", {"config", "channels_app"}), ("channels_app", {"config", "subscriptions"})],
)
def test_a_direction_imports_neither_the_wiring_nor_the_other_direction(app, forbidden):
    assert violations(app, forbidden, tests=False) == []


def test_imports_inside_functions_and_by_name_are_found():
    source = (
        "import config\n"
        "from webhooks import models\n"
        "def later():\n"
        "    from subscriptions.models import Delivery\n"
        "    import_module('channels_app.tasks')\n"
        "    from . import sibling\n"
    )

    assert {name for _, name in imported_modules(source)} == {
        "config",
        "webhooks",
        "subscriptions.models",
        "channels_app.tasks",
    }
