"""The reference orchestrator (docs/orchestrator.md): discovers modules, starts and supervises
them, keeps what services asked for and re-creates it after restarts, brokers calls, and logs
events durably.

Where things are, named after the contract's words:

    discovery.py            scanning the module folders, rescans (C-2)
    supervision/            a module's process and its life (H-14, H-16 to H-20, S-6)
        supervisor.py       the loop: spawn, READY, health, restart, stop
        restart.py          restart policy and restart backoff (H-16)
        give_up.py          give-up intensity (H-17)
        instance.py         the running process and its channel; spawn and the shutdown
                            ladder are mediagrid.manifest.process.ModuleProcess
    health.py               periodic HealthCheck, DEGRADED / UNHEALTHY (H-13)
    desired_state.py        the SQLite store of entities, connections, flows (H-15)
    recovery.py             re-creating desired state after a restart (H-15)
    broker/                 entity, connection and flow calls reaching modules (P-12)
    module_events.py        MODULE_STATE_CHANGED, MODULE_RESTARTED (E-17)
    events/                 the event log and subscriptions (E-4, E-11 to E-18)
    api.py                  OrchestratorService
    server.py, security.py  the gRPC server: token, TLS, limits (S-1, S-2, S-4, S-5)
    settings.py             the settings and their defaults
    app.py                  Orchestrator: everything assembled
    command.py              `mediagrid up`, `mediagrid status`, `mediagrid restart`
"""
