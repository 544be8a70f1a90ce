"""Services: clients of the orchestrator that run beside it (the config service)."""
