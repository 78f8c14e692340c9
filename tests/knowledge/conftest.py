"""Knowledge tests share the root fixtures (tests/conftest.py)."""

from tests.conftest import LOCAL_ID

__all__ = ["LOCAL_ID"]
