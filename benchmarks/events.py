"""Latency from a database commit to a websocket client of the events stream."""

from __future__ import annotations

import asyncio
import json
import time

import psycopg
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .harness import Row, Server

TOKEN_HEADER = "Authorization"


async def _latencies(server: Server, samples: int) -> list[float]:
    from jupyter_process import TOKEN

    request = HTTPRequest(
        f"ws://127.0.0.1:{server.process.port}/fusionpipe/api/events",
        headers={TOKEN_HEADER: f"token {TOKEN}"},
    )
    socket = await websocket_connect(request)
    latencies = []
    async with await psycopg.AsyncConnection.connect(server.dsn, autocommit=True) as conn:
        for index in range(samples):
            async with conn.transaction():
                await conn.execute(
                    "SELECT pg_notify('fusionpipe', %s)",
                    (json.dumps({"event": "bench", "n": index}),),
                )
                committed = time.perf_counter()  # the NOTIFY leaves when this block commits
            while True:
                message = json.loads(await socket.read_message())
                if message.get("event") == "bench" and message.get("n") == index:
                    latencies.append(time.perf_counter() - committed)
                    break
    socket.close()
    return latencies


def measure(server: Server) -> list[Row]:
    samples = asyncio.run(_latencies(server, 50))
    return [
        Row(
            "status change to browser (commit -> websocket)",
            samples,
            None,
            "< 100 ms",
            sorted(samples)[25] < 0.100,
        )
    ]
