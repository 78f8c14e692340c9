"""Listing the course materials the Q&A index is built from."""

from __future__ import annotations

from pathlib import Path

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")


def list_materials(directory: Path) -> list[Path]:
    """Every supported material file below ``directory``, sorted, hidden files skipped.

    Args:
        directory: the materials folder (``content/materials`` in the sample course).
    """
    if not directory.is_dir():
        return []
    found = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith((".", "~$")) for part in relative.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
    return sorted(found)
