"""Secrets for the embedded default, generated once into the git-ignored var/ folder.

Only used when DEBUG is on and the environment gives none, so a fresh clone runs with no
setup and no secret is ever hard-coded or shared between clones.
"""

import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet


def _read_or_create(path: Path, make) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
        handle.write(make())
    try:
        # link() is atomic and fails if the file exists: when web, worker and beat start at
        # once, the first one's value wins and the others read it.
        os.link(handle.name, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(handle.name)
    return path.read_text().strip()


def django_secret_key(var_dir: Path) -> str:
    return _read_or_create(var_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def fernet_key(var_dir: Path) -> str:
    return _read_or_create(var_dir / "field_encryption.key", lambda: Fernet.generate_key().decode())
