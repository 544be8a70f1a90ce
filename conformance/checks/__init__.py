"""The checks, one file per rule family (a family's second file where one would be too long).
FAMILIES is the order the registry reads them in."""

from mediagrid.conformance.checks import (
    config,
    connections,
    entities,
    environment,
    events,
    flows,
    health,
    lifecycle,
    manifest,
    pipeline,
    reports,
    requests,
    security,
    tls,
)

FAMILIES = (
    health.CHECKS, lifecycle.CHECKS, environment.CHECKS,
    entities.CHECKS, requests.CHECKS,
    pipeline.CHECKS, connections.CHECKS, flows.CHECKS,
    events.CHECKS, reports.CHECKS,
    config.CHECKS, manifest.CHECKS,
    security.CHECKS, tls.CHECKS,
)

__all__ = ["FAMILIES"]
