"""Entity calls of OrchestratorService, brokered to the owning module and recorded (H-15)."""

from __future__ import annotations

import base64
import binascii
import json

from mediagrid.reference.orchestrator.broker.calls import Broker, call, remove_side
from mediagrid.reference.orchestrator.desired_state import EntityRecord
from mediagrid.reference.orchestrator.errors import invalid, unavailable
from mediagrid.reference.orchestrator.modules import READY
from mediagrid.v1 import entity_pb2, pipeline_pb2

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def entity_id_of(entity: entity_pb2.Entity) -> str:
    kind = entity.WhichOneof("entity")
    return getattr(entity, kind).id if kind else ""


class EntityBroker:
    def __init__(self, broker: Broker) -> None:
        self.b = broker

    def choose_module(self, entity_type: str) -> str:
        """CreateEntity with no module_id: the first READY module, by id, offering the type."""
        offering = [s for s in self.b.modules if s.manifest.entity_type(entity_type)]
        for supervisor in offering:
            if supervisor.view.state == READY:
                return supervisor.id
        if offering:
            names = ", ".join(s.id for s in offering)
            raise unavailable(f"entity_type {entity_type!r} is offered by {names}, but none is"
                              " READY: retry when one is (ListModules shows their state)")
        offered = sorted({t.type for s in self.b.modules for t in s.manifest.entity_types})
        raise invalid(f"request.entity_type {entity_type!r} is offered by no module: offered"
                      f" types are {', '.join(offered) or 'none'}; or set module_id")

    async def create(self, module_id: str, request: entity_pb2.CreateEntityRequest,
                     deadline: float) -> tuple[str, entity_pb2.CreateEntityResponse]:
        module_id = module_id or self.choose_module(request.entity_type)
        supervisor = self.b.modules.ready(module_id)
        async with self.b.locks.hold([module_id]):
            response = await call(supervisor, "entities", "CreateEntity", request, deadline)
            entity_id = entity_id_of(response.entity)
            if response.created or await self.b.store.entity(module_id, entity_id) is None:
                await self.b.store.put_entity(EntityRecord(
                    module_id, entity_id, request.entity_type, request.name, request.media_type,
                    dict(request.config), request.request_id))
        response.entity.module_id = response.entity.module_id or module_id
        return module_id, response

    async def configure(self, module_id: str, request: entity_pb2.ConfigureEntityRequest,
                        deadline: float) -> entity_pb2.ConfigureEntityResponse:
        supervisor = self.b.modules.ready(module_id)
        async with self.b.locks.hold([module_id]):
            response = await call(supervisor, "entities", "ConfigureEntity", request, deadline)
            record = await self.b.store.entity(module_id, request.entity_id)
            if record is not None and not record.removed:
                # The config in force as the caller wrote it: the module's read-back redacts
                # secrets (N-11), and re-creation needs the real values.
                config = dict(request.config) if request.replace else \
                    {**record.config, **request.config}
                await self.b.store.set_entity_config(module_id, request.entity_id, config)
        return response

    async def status(self, module_id: str, request: entity_pb2.GetEntityStatusRequest,
                     deadline: float) -> entity_pb2.GetEntityStatusResponse:
        supervisor = self.b.modules.ready(module_id)
        return await call(supervisor, "entities", "GetEntityStatus", request, deadline)

    async def destroy(self, module_id: str, request: entity_pb2.DestroyEntityRequest,
                      deadline: float) -> entity_pb2.DestroyEntityResponse:
        """Destroys the entity and drops it, and its connections, from desired state. A
        cross-module connection loses its other side too (the module only removes its own)."""
        supervisor = self.b.modules.ready(module_id)
        store, entity_id = self.b.store, request.entity_id
        linked = [c for c in await store.connections(module_id)
                  if (c.source_module, c.source_entity) == (module_id, entity_id)
                  or (c.target_module, c.target_entity) == (module_id, entity_id)]
        peers = {m for c in linked for m in (c.source_module, c.target_module)}
        async with self.b.locks.hold({module_id, *peers}):
            record = await store.entity(module_id, entity_id)
            if record is not None and record.removed:
                return entity_pb2.DestroyEntityResponse(destroyed=False)
            response = await call(supervisor, "entities", "DestroyEntity", request, deadline)
            if record is not None:
                await store.remove_entity(module_id, entity_id)
            for connection in linked:
                other = connection.target_module if connection.source_module == module_id \
                    else connection.source_module
                if other != module_id:
                    await self._disconnect_side(other, connection.connection_id, deadline)
                await store.remove_connection(connection.connection_id)
        return response

    async def _disconnect_side(self, module_id: str, connection_id: str, deadline: float) -> None:
        peer = self.b.modules.find(module_id)
        if peer is None:
            return  # retired: nothing runs there
        await remove_side(peer, "DisconnectEntities",  # a module not running: its
                          pipeline_pb2.DisconnectEntitiesRequest(  # re-creation skips it
                              connection_id=connection_id), deadline)

    async def list(self, module_id: str, request: entity_pb2.ListEntitiesRequest,
                   deadline: float) -> tuple[list[entity_pb2.Entity], str]:
        if module_id:
            supervisor = self.b.modules.ready(module_id)
            response = await call(supervisor, "entities", "ListEntities", request, deadline)
            entities = list(response.entities)
            for entity in entities:
                entity.module_id = entity.module_id or module_id
            return entities, response.next_page_token
        return await self._list_all(request, deadline)

    async def _list_all(self, request: entity_pb2.ListEntitiesRequest,
                        deadline: float) -> tuple[list[entity_pb2.Entity], str]:
        """Pages over the READY modules in id order; the token names the module and that
        module's own token. Modules not READY are skipped (their entities come back with
        them)."""
        size = request.page.page_size or DEFAULT_PAGE
        if not 0 < size <= MAX_PAGE:
            raise invalid(f"request.page.page_size {size} is out of range: use 1 to {MAX_PAGE}"
                          " (0 means 100)")
        start_module, module_token = _read_token(request.page.page_token)
        modules = [s for s in self.b.modules if s.id >= start_module and s.view.state == READY]
        found: list[entity_pb2.Entity] = []
        for n, supervisor in enumerate(modules):
            token = module_token if supervisor.id == start_module else ""
            while True:
                page = entity_pb2.ListEntitiesRequest(entity_type=request.entity_type)
                page.page.page_size, page.page.page_token = size - len(found), token
                response = await call(supervisor, "entities", "ListEntities", page, deadline)
                for entity in response.entities:
                    entity.module_id = entity.module_id or supervisor.id
                found.extend(response.entities)
                token = response.next_page_token
                if len(found) >= size:
                    if token:
                        return found, _make_token(supervisor.id, token)
                    following = await self._next_with_entities(modules[n + 1:], request,
                                                               deadline)
                    return found, _make_token(following, "") if following else ""
                if not token:
                    break
        return found, ""

    async def _next_with_entities(self, modules: list, request: entity_pb2.ListEntitiesRequest,
                                  deadline: float) -> str:
        """The id of the first of `modules` holding a matching entity ("" if none), so a
        full page is not followed by an empty one."""
        for supervisor in modules:
            probe = entity_pb2.ListEntitiesRequest(entity_type=request.entity_type)
            probe.page.page_size = 1
            if (await call(supervisor, "entities", "ListEntities", probe, deadline)).entities:
                return str(supervisor.id)
        return ""


def _make_token(module_id: str, token: str) -> str:
    raw = json.dumps({"m": module_id, "t": token}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _read_token(token: str) -> tuple[str, str]:
    if not token:
        return "", ""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["m"]), str(data["t"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid("request.page.page_token was not issued by this orchestrator: pass the"
                      " next_page_token of the previous page, or empty for the first") from None
