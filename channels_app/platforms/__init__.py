"""One package per platform; `registry` lists the receivers.

A package may also hold `models`, `admin`, `tasks` and `urls` modules: the app-wide module of
the same name imports them all (`platform_modules`), so adding a platform never means editing
those. It is what Django's autodiscovery does for apps, one level down.
"""

import importlib
import pkgutil
from types import ModuleType


def platform_modules(name: str) -> list[ModuleType]:
    """Every platform package's module `name` (e.g. "admin"), imported, in package order."""
    modules = []
    for package in sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg):
        qualified = f"{__name__}.{package}.{name}"
        if importlib.util.find_spec(qualified) is not None:
            modules.append(importlib.import_module(qualified))
    return modules
