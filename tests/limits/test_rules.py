"""The counting rules of api/ratelimit/rules.py, as pure functions."""

from __future__ import annotations

from hypothesis import given, strategies as st

from api.ratelimit.rules import Policy, count, headers, take

P = Policy("user", 60, 60)


def test_a_bucket_lets_the_burst_through_then_refuses_until_it_refills():
    b, verdicts = None, []
    for _ in range(61):
        b, v = take(b, 100.0, P)
        verdicts.append(v)
    assert all(v.allowed for v in verdicts[:60]) and not verdicts[60].allowed
    assert verdicts[60].reset == 1  # one token a second
    b, v = take(b, 101.0, P)
    assert v.allowed


def test_the_window_counter_says_when_a_request_fits_again():
    hourly = Policy("registrations", 3, 3600)
    c = None
    for _ in range(3):
        c, v = count(c, 3599.0, hourly)  # the last second of a window
        assert v.allowed
    c, v = count(c, 3599.0, hourly)
    assert not v.allowed
    # The next window starts in a second, but the three just counted still weigh on it:
    # a third of the way in, one more fits.
    assert v.reset == 1 + 1200
    _, later = count(c, 3599.0 + v.reset, hourly)
    assert later.allowed


@given(st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=200))
def test_the_window_counter_never_allows_more_than_the_limit_in_one_fixed_window(times):
    p = Policy("exports", 5, 60)
    c, allowed = None, {}
    for t in sorted(times):
        c, v = count(c, t, p)
        if v.allowed:
            allowed[t // 60] = allowed.get(t // 60, 0) + 1
    assert all(n <= p.limit for n in allowed.values())


def test_headers_follow_the_ietf_fields():
    _, v = take(None, 0.0, P)
    h = headers(P, v)
    assert h == {"RateLimit-Policy": '"user";q=60;w=60', "RateLimit": '"user";r=59;t=1'}


def test_idle_buckets_are_forgotten_only_once_full_again(monkeypatch):
    from api.ratelimit import storage

    monkeypatch.setattr(storage, "MAX_BUCKETS", 2)
    small, big = Policy("address", 10, 60), Policy("user", 600, 60)
    buckets = storage.MemoryBuckets()
    for _ in range(100):
        buckets.take("user:busy", 0.0, big)  # 500 of 600 left: full again at t=10
    buckets.take("addr:idle", 0.0, small)  # full again at t=6
    buckets.take("addr:new", 6.0, small)  # a third bucket: the sweep runs at t=6
    assert "addr:idle" not in buckets._buckets
    assert "user:busy" in buckets._buckets  # judged by its own policy, not the caller's
