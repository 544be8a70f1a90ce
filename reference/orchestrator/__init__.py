"""The reference orchestrator: discovery, supervision, health, desired state, events."""
