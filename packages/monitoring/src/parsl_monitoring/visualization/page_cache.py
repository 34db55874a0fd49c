"""Rendered pages of finished workflows, kept in memory: a finished workflow's rows never change."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["PageCache"]


class PageCache:
    """A least-recently-used map from URL to page body, bounded by total size in bytes."""

    def __init__(self, budget: int = 64 << 20):
        self.budget = budget
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.budget // 4:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._pages[key] = body
            self._size += len(body)
            while self._size > self.budget:
                _, dropped = self._pages.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._pages)
