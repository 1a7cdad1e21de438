"""A bounded map of what the activities of this worker keep of the cases they saw last, safe
to share between the store activity's threads and the event loop."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

Value = TypeVar("Value")


class Recent(Generic[Value]):
    """At most ``size`` values by case number; putting one makes it the newest, and the
    oldest beyond ``size`` is forgotten."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[str, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, case_no: str) -> Value | None:
        """The case's value, kept."""
        with self._lock:
            return self._values.get(case_no)

    def take(self, case_no: str) -> Value | None:
        """The case's value, no longer kept."""
        with self._lock:
            return self._values.pop(case_no, None)

    def put(self, case_no: str, value: Value) -> None:
        """Keep the case's value as the newest."""
        with self._lock:
            self._values[case_no] = value
            self._values.move_to_end(case_no)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def forget(self, case_no: str, value: Value) -> None:
        """Forget the case's value if it is still ``value``."""
        with self._lock:
            if self._values.get(case_no) is value:
                del self._values[case_no]
