"""Content-addressed document storage behind a small interface (a local directory by default)."""

from app.storage.local import LocalStorage, Storage, get_storage

__all__ = ["LocalStorage", "Storage", "get_storage"]
