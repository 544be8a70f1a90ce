"""The checks, one file per rule family. FAMILIES is the order the registry reads them in."""

from mediagrid.conformance.checks import (
    config,
    entities,
    events,
    flows,
    health,
    lifecycle,
    pipeline,
    security,
)

FAMILIES = (health.CHECKS, lifecycle.CHECKS, entities.CHECKS, pipeline.CHECKS, flows.CHECKS,
            events.CHECKS, config.CHECKS, security.CHECKS)

__all__ = ["FAMILIES"]
