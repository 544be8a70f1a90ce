"""The fault proxy's control API: HTTP with JSON bodies on the paths of toxiproxy's API, so
its habits (and curl lines) carry over.

    GET    /proxies                         every proxy of this process
    GET    /proxies/NAME                    one proxy: listen, upstream, enabled, toxics, stats
    POST   /proxies/NAME      {"enabled": false}   down (stop listening, drop connections) / up
    GET    /proxies/NAME/toxics             its toxics
    POST   /proxies/NAME/toxics   {"type": "latency", "stream": "downstream", "toxicity": 1,
                                   "attributes": {"latency": 300, "jitter": 50}}
    DELETE /proxies/NAME/toxics/TOXIC
    POST   /reset                           every toxic of every proxy removed, all enabled

Answers: 200 with JSON, 204 without a body, 400 a bad toxic (the message says the fix),
404 unknown proxy or toxic, 409 a toxic name already used.

    client = ProxyClient("127.0.0.1:8474")
    await client.add_toxic("module", {"type": "latency", "attributes": {"latency": 300}})
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from mediagrid.simulator.proxy.proxy import FaultProxy
from mediagrid.simulator.proxy.toxics import Toxic, ToxicError

DOWN = "down"


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict"}


class ControlApi:
    """Serves the API for the proxies in `proxies` (name -> proxy)."""

    def __init__(self, proxies: Mapping[str, FaultProxy]) -> None:
        self.proxies = dict(proxies)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"{host}:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            try:
                status, answer = 200, await self.handle(method, path,
                                                        json.loads(body) if body else None)
            except HttpError as exc:
                status, answer = exc.status, {"error": exc.message, "status": exc.status}
            except json.JSONDecodeError as exc:
                status, answer = 400, {"error": f"the body is not JSON: {exc}", "status": 400}
            if answer is None:
                status = 204
            data = b"" if answer is None else json.dumps(answer).encode()
            writer.write(f"HTTP/1.1 {status} {REASONS.get(status, '')}\r\nContent-Type:"
                         f" application/json\r\nContent-Length: {len(data)}\r\nConnection:"
                         " close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            pass
        finally:
            writer.close()

    def _proxy(self, name: str) -> FaultProxy:
        if name not in self.proxies:
            raise HttpError(404, f"no proxy {name!r}: there are {', '.join(self.proxies)}")
        return self.proxies[name]

    async def handle(self, method: str, path: str, body: Any) -> Any:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts == ["reset"] and method == "POST":
            for proxy in self.proxies.values():
                await proxy.reset()
            return None
        if parts == ["proxies"] and method == "GET":
            return {name: p.to_dict() for name, p in self.proxies.items()}
        if len(parts) < 2 or parts[0] != "proxies":
            raise HttpError(404, f"no such path {path!r}: see the toxiproxy-style paths")
        proxy = self._proxy(parts[1])
        rest = parts[2:]
        if not rest:
            if method == "GET":
                return proxy.to_dict()
            if method == "POST" and isinstance(body, dict) and "enabled" in body:
                if body["enabled"]:
                    await proxy.remove(DOWN)
                elif DOWN not in proxy.toxics:
                    await proxy.add(Toxic("down", name=DOWN))
                return proxy.to_dict()
        elif rest == ["toxics"]:
            if method == "GET":
                return [t.to_dict() for t in proxy.toxics.values()]
            if method == "POST":
                try:
                    toxic = Toxic.from_dict(body if isinstance(body, dict) else {})
                except ToxicError as exc:
                    raise HttpError(400, str(exc)) from None
                if toxic.name in proxy.toxics:
                    raise HttpError(409, f"toxic {toxic.name!r} exists: delete it first")
                return (await proxy.add(toxic)).to_dict()
        elif len(rest) == 2 and rest[0] == "toxics":
            toxic = proxy.toxics.get(rest[1])
            if toxic is None:
                raise HttpError(404, f"no toxic {rest[1]!r} on proxy {proxy.name!r}")
            if method == "GET":
                return toxic.to_dict()
            if method == "DELETE":
                await proxy.remove(rest[1])
                return None
        raise HttpError(405, f"{method} {path} is not served")


class ProxyClient:
    """A client of a proxy's control API in another process."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        data = b"" if body is None else json.dumps(body).encode()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type:"
                         f" application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                         + data)
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
        head, _, payload = response.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        answer = json.loads(payload) if payload else None
        if status >= 400:
            raise HttpError(status, (answer or {}).get("error", f"HTTP {status}"))
        return answer

    async def proxies(self) -> dict[str, Any]:
        return await self.request("GET", "/proxies")

    async def add_toxic(self, proxy: str, toxic: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", f"/proxies/{proxy}/toxics", dict(toxic))

    async def remove_toxic(self, proxy: str, name: str) -> None:
        await self.request("DELETE", f"/proxies/{proxy}/toxics/{name}")

    async def set_enabled(self, proxy: str, enabled: bool) -> dict[str, Any]:
        return await self.request("POST", f"/proxies/{proxy}", {"enabled": enabled})

    async def reset(self) -> None:
        await self.request("POST", "/reset")
