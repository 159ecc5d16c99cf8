"""Starts, reads, signals and stops a loop the way the original Python service's client does: a
dataclass of six config fields as the workflow's one argument, an execution timeout, the
`get_status` query, `continue_signal` and `stop_signal`. Only the Temporal Python SDK; the test
passes the address, namespace, task queue, workflow id and app URL in the environment and reads
one JSON line per step on stdout."""

import asyncio
import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import List

from temporalio.client import Client


@dataclass
class MtfPingPongConfig:
    mtf_url: str = "http://trading-app-nginx:80/api/mtf/run"
    symbols: List[str] = field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "ADAUSDT", "SOLUSDT", "DOTUSDT"])
    dry_run: bool = True
    force_run: bool = False
    max_execution_time: int = 60
    ping_interval: int = 10


def say(step: str, **fields) -> None:
    print(json.dumps({"step": step, **fields}), flush=True)


async def until(read, check, what: str, tries: int = 400):
    # Bounded: the loop answers within a few reads; a broken one ends the script with its last answer.
    last = None
    for _ in range(tries):
        last = await read()
        if check(last):
            return last
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}; last seen: {last}")


async def main() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"], namespace=os.environ["TEMPORAL_NAMESPACE"])
    config = MtfPingPongConfig(mtf_url=os.environ["MTF_URL"])
    handle = await client.start_workflow(
        "MtfPingPongWorkflow",
        config,
        id=os.environ["WORKFLOW_ID"],
        task_queue=os.environ["TASK_QUEUE_NAME"],
        execution_timeout=timedelta(hours=1),
    )
    say("started", workflow_id=handle.id, run_id=handle.result_run_id)
    status = await until(lambda: handle.query("get_status"), lambda s: s["current_iteration"] >= 1 and s["mtf_completed"], "the first cycle")
    say("status", status=status)
    await handle.signal("continue_signal")
    status = await until(lambda: handle.query("get_status"), lambda s: s["current_iteration"] >= 2 and s["mtf_completed"], "the second cycle, after continue_signal")
    say("continued", status=status)
    await handle.signal("stop_signal", "original client done")
    say("stopped", summary=await handle.result())


asyncio.run(main())
# The SDK's Rust threads can outlive the event loop, and CPython's finalization then aborts now and
# then with "PyGILState_Release: thread state ... must be current" (temporalio/sdk-python#300, seen
# once in CI after every step had passed): all is said and flushed, so leave without finalizing.
os._exit(0)
