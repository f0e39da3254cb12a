"""Address-space check: one lookup among 10,000 registered prefixes, timed one call at a time.

Budget (design): <= 20 us per lookup at p95 with 10,000 registered prefixes.
Run: .venv/bin/python bench/address_space.py

The prefixes are a fixed-seed mix of 7,000 IPv4 (/20 to /28) and 3,000 IPv6 (/32 to
/64) networks, none overlapping (the API refuses overlaps). Each lookup is what a
controller call pays: `AddressSpace.status(address)` on the text address the platform
saw (parsing included), for addresses inside a random prefix (hits) and outside
every prefix (misses), IPv4 and IPv6 mixed 70/30 in random order. Also timed: building
the lookup from the list (what a container pays when the list changed, at most once
a minute), validating the list (a PUT), and `UplinkService.observe` when nothing
changed (the whole per-call cost on the controller path: no DynamoDB request).
No storage is involved.
"""

from __future__ import annotations

import ipaddress
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import stack  # noqa: F401 (the configuration chalicelib reads, and the import path; no emulator is started)

PREFIXES_V4, PREFIXES_V6 = 7_000, 3_000
LOOKUPS = 200_000
WARM_UP = 20_000
SEED = 14
BUDGET_US = 20.0


def prefixes(rng: random.Random) -> list[tuple[str, int, str | None]]:
    """Non-overlapping by construction: each IPv4 prefix starts its own /20, each IPv6 one its own /32."""
    v4_blocks = rng.sample(range(1 << 20), PREFIXES_V4)
    v6_blocks = rng.sample(range(1 << 29), PREFIXES_V6)  # /32s inside 2000::/3
    out: list[tuple[str, int, str | None]] = []
    for block in v4_blocks:
        v4 = ipaddress.IPv4Network((block << 12, rng.randint(20, 28)))
        out.append((str(v4), rng.randint(1, 400_000), f"POP {block % 500}"))
    for block in v6_blocks:
        v6 = ipaddress.IPv6Network(((1 << 125) | (block << 96), rng.randint(32, 64)))
        out.append((str(v6), rng.randint(1, 4_294_967_295), None))
    rng.shuffle(out)
    return out


def addresses(rng: random.Random, space: Any, listed: list[tuple[str, int, str | None]]) -> list[tuple[str, bool]]:
    """(address, expected hit), half inside a random prefix and half outside every one, 70/30 IPv4/IPv6."""
    v4 = [ipaddress.ip_network(cidr) for cidr, _, _ in listed if ":" not in cidr]
    v6 = [ipaddress.ip_network(cidr) for cidr, _, _ in listed if ":" in cidr]
    out: list[tuple[str, bool]] = []
    while len(out) < LOOKUPS + WARM_UP:
        pool, bits = (v4, 32) if rng.random() < 0.7 else (v6, 128)
        if rng.random() < 0.5:
            network = rng.choice(pool)
            address = str(ipaddress.ip_address(int(network.network_address) + rng.randrange(network.num_addresses)))
            out.append((address, True))
        else:
            base = (1 << 125) if bits == 128 else 0
            address = str(ipaddress.ip_address(base | rng.getrandbits(bits - (3 if bits == 128 else 0))))
            if space.find(address) is None:
                out.append((address, False))
    return out


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


def main() -> None:
    from chalicelib.auth.principal import Actor, RequestMeta
    from chalicelib.services.address_space import (
        AddressSpace,
        AddressSpaceService,
        UplinkService,
        _Written,
        validate_prefixes,
    )

    rng = random.Random(SEED)
    listed = prefixes(rng)
    started = time.perf_counter()
    validated = validate_prefixes(listed)
    validate_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    space = AddressSpace(validated, version="bench")
    build_ms = (time.perf_counter() - started) * 1000
    assert len(space) == PREFIXES_V4 + PREFIXES_V6
    work = addresses(rng, space, listed)

    clock = time.perf_counter_ns
    status = space.status
    for address, _ in work[:WARM_UP]:
        status(address)
    timings: dict[tuple[bool, int], list[float]] = {(hit, v): [] for hit in (True, False) for v in (4, 6)}
    for address, hit in work[WARM_UP:]:
        before = clock()
        answer = status(address)
        elapsed = clock() - before
        assert (answer == "registered") is hit, address
        timings[(hit, 6 if ":" in address else 4)].append(elapsed / 1000)
    every = [sample for samples in timings.values() for sample in samples]
    floor = min(_timer_overhead_us() for _ in range(5))

    # The per-call cost on the controller path when nothing changed: the cached list and the memory of
    # what was last written are warm (seeded here, as the first call of a container would leave them).
    service = AddressSpaceService(audit=None, monotonic=lambda: 0.0)  # type: ignore[arg-type]
    service._cached, service._checked_at = space, 0.0
    now = datetime.now(UTC)
    uplinks = UplinkService(service, alerts=None, clock=lambda: now)  # type: ignore[arg-type]
    hit_address = next(address for address, hit in work if hit)
    uplinks._written[("org", "site", None)] = _Written("registered", hit_address, now)
    actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="bench", request_id="bench"))
    observe: list[float] = []
    for _ in range(50_000):
        before = clock()
        uplinks.observe(actor, "org", "site", hit_address)
        observe.append((clock() - before) / 1000)

    print(f"{PREFIXES_V4:,} IPv4 + {PREFIXES_V6:,} IPv6 prefixes: validated in {validate_ms:.0f} ms, "
          f"lookup built in {build_ms:.0f} ms")  # fmt: skip
    print(f"{'lookups':<24} {'n':>7} {'p50 us':>8} {'p95 us':>8} {'p99 us':>8}")
    rows = [("all", every)] + [(f"{'hit' if hit else 'miss'} IPv{v}", timings[(hit, v)]) for hit, v in timings]
    rows.append(("observe, nothing new", observe))
    for name, samples in rows:
        p50, p95, p99 = percentiles(samples)
        print(f"{name:<24} {len(samples):>7} {p50:>8.2f} {p95:>8.2f} {p99:>8.2f}")
    print(f"(perf_counter_ns pair alone: {floor:.2f} us, included above)")
    p50, p95, p99 = percentiles(every)
    observe_p95 = percentiles(observe)[1]
    print(f"prefixes={len(space)} lookup_p50_us={p50:.2f} lookup_p95_us={p95:.2f} lookup_p99_us={p99:.2f} "
          f"observe_p95_us={observe_p95:.2f} budget_p95_us={BUDGET_US:g} met={p95 <= BUDGET_US}")  # fmt: skip


def _timer_overhead_us() -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(10_000):
        before = clock()
        samples.append(clock() - before)
    return statistics.median(samples) / 1000


if __name__ == "__main__":
    main()
