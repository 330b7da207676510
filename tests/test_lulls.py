"""Taking replies waits for a lull between the platforms' requests, but never for long."""

from __future__ import annotations

import asyncio

from scheduler.lulls import Lulls


async def test_with_no_request_in_flight_the_work_goes_on_at_once() -> None:
    lulls = Lulls(max_wait=60)
    await asyncio.wait_for(lulls.wait(), timeout=5)


async def test_the_work_waits_while_a_request_is_answered_and_goes_on_when_it_is() -> None:
    lulls = Lulls(max_wait=60)
    await lulls.wait()
    with lulls.request():
        waiting = asyncio.create_task(lulls.wait())
        await asyncio.sleep(0.2)
        assert not waiting.done()
    await asyncio.wait_for(waiting, timeout=5)
    assert lulls.in_flight == 0


async def test_under_a_steady_flood_the_work_still_goes_on_every_max_wait() -> None:
    lulls = Lulls(max_wait=0.2)
    with lulls.request():
        for _ in range(3):  # three rounds of work while the request never ends
            await asyncio.wait_for(lulls.wait(), timeout=5)
