"""Brokered calls: OrchestratorService's entity, connection and flow calls reach the owning
module, and what they change is recorded as desired state before the call answers (H-15).

    calls.py        one call to a module: deadline, token, the module's status forwarded as is
    entities.py     CreateEntity, ConfigureEntity, GetEntityStatus, DestroyEntity, ListEntities
    connections.py  ConnectEntities (the endpoint exchange of contract §4.1), Disconnect
    flows.py        StartFlow (sinks first, P-12), StopFlow, GetFlowStatus, AdjustQuality
"""
