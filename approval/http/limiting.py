"""Rate limits per client (by its address), in memory, with the ``limits`` library's moving
window: the public progress query (every query counts) and the console's login (failed
attempts count, so a service centre's staff behind one address are not locked out by each
other's successful logins). Past the limit the answer is 429 with ``Retry-After``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from approval.config import Settings

RATE_LIMITED = "rate_limited"
"""The machine code of a 429."""


class RateLimitedError(Exception):
    """A client went past a rate limit: refused for ``retry_after_s`` seconds."""

    code = RATE_LIMITED

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(f"{scope}: rate limited for {retry_after_s} s")
        self.scope = scope
        self.retry_after_s = retry_after_s

    @property
    def reason(self) -> str:
        """The refusal in Chinese, with the wait."""
        return f"请求过于频繁，请 {self.retry_after_s} 秒后重试 (too many requests)"


@dataclass
class RateLimit:
    """One limit, e.g. ``30/minute``, counted per client key."""

    scope: str
    item: RateLimitItem
    limiter: MovingWindowRateLimiter

    def exhausted(self, key: str) -> bool:
        """Whether ``key`` has no attempt left in the window."""
        return not self.limiter.test(self.item, self.scope, key)

    def hit(self, key: str) -> bool:
        """Count one attempt of ``key``; False when it went past the limit."""
        return self.limiter.hit(self.item, self.scope, key)

    def refusal(self, key: str) -> RateLimitedError:
        """The 429 for ``key``, with the seconds until an attempt is free again."""
        stats = self.limiter.get_window_stats(self.item, self.scope, key)
        return RateLimitedError(self.scope, max(1, math.ceil(stats.reset_time - time.time())))


@dataclass
class RateLimits:
    """The app's limits, sharing one in-memory storage."""

    public: RateLimit
    login_failures: RateLimit
    storage: MemoryStorage = field(repr=False)

    @classmethod
    def of(cls, settings: Settings) -> RateLimits:
        """The limits the settings name (``APPROVAL_PUBLIC_RATE_LIMIT``,
        ``APPROVAL_LOGIN_FAILURE_RATE_LIMIT``)."""
        storage = MemoryStorage()
        limiter = MovingWindowRateLimiter(storage)
        public = rate(settings.public_rate_limit, "APPROVAL_PUBLIC_RATE_LIMIT")
        failures = rate(settings.login_failure_rate_limit, "APPROVAL_LOGIN_FAILURE_RATE_LIMIT")
        return cls(
            public=RateLimit("public", public, limiter),
            login_failures=RateLimit("login", failures, limiter),
            storage=storage,
        )

    def reset(self) -> None:
        """Forget every count (tests)."""
        self.storage.reset()


def rate(text: str, setting: str) -> RateLimitItem:
    """The rate ``text`` names, e.g. ``30/minute``; a ValueError naming ``setting`` if none."""
    try:
        return parse(text)
    except ValueError:
        raise ValueError(f"{setting}: {text!r} is not a rate such as 30/minute") from None


def client_key(request: Request) -> str:
    """Who is asking: the client's address (behind a proxy, as the ASGI server reports it,
    e.g. uvicorn ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


def rate_limits(request: Request) -> RateLimits:
    """The app's rate limits."""
    limits: RateLimits = request.app.state.rate_limits
    return limits


async def public_rate_limit(request: Request) -> None:
    """A dependency: count the public query; 429 past the limit."""
    limit = rate_limits(request).public
    key = client_key(request)
    if not limit.hit(key):
        raise limit.refusal(key)
