"""Pipeline planning (the protocol design's pipeline flow, step 2; rule P-13): the cheapest
path from a source to a sink through converters, by capabilities alone.

The graph's nodes are the source, every converter type a READY module offers for the media
type, and the sink; an edge joins two nodes whose sides meet (capabilities.meet). A
converter's output does not depend on its input codec, so a plain shortest-path search over
these nodes finds the cheapest chain. Costs: a converter (a new entity, a decode and an
encode) costs far more than a hop between modules, so a direct connection always wins when
there is one, then the chain with the fewest converters, then the one with the fewest hops
between processes. Ties go to the module id and type in alphabetical order, so a plan is
the same every time.

No path: `NoPath` says why the direct hop fails, what a bridging converter would have to
take and give, and what each converter on offer takes and gives.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from mediagrid.reference.orchestrator.planning.capabilities import Hop, Side, meet, names

CONVERTER_COST = 100
CROSS_MODULE_COST = 1
MAX_CONVERTERS = 3


@dataclass(frozen=True)
class ConverterOffer:
    """A converter type some module offers: what its entities would take and give."""

    module_id: str
    type: str
    takes: Side
    gives: Side
    ready: bool = True
    state: str = "READY"

    @property
    def label(self) -> str:
        return f"{self.module_id}/{self.type}"


@dataclass(frozen=True)
class Plan:
    """The hops from source to sink, in order; `converters` are the offers to create, one
    per hop but the last."""

    hops: tuple[Hop, ...]
    converters: tuple[ConverterOffer, ...]
    cost: int


class NoPath(Exception):
    """No chain joins the source to the sink; the message names the missing capability
    and both sides' offers (FAILED_PRECONDITION, rule P-13)."""


def plan(source: Side, sink: Side, converters: Sequence[ConverterOffer], *, codec: str = "",
         transport: str = "", max_converters: int = MAX_CONVERTERS) -> Plan:
    """The cheapest plan; NoPath when there is none. `codec` is the codec asked for at the
    sink (the last hop carries it)."""
    candidates = sorted((c for c in converters if c.takes.media == source.media),
                        key=lambda c: (c.module_id, c.type))
    offers = [c for c in candidates if c.ready]
    # Heap entries: cost, converters used, tie-break labels, node (-1 the source, -2 the
    # sink, else an offer), a unique count, hops so far, offers used.
    Entry = tuple[int, int, tuple[str, ...], int, int, tuple[Hop, ...], tuple[int, ...]]
    heap: list[Entry] = [(0, 0, (), -1, 0, (), ())]
    count = 0
    settled: set[int] = set()
    while heap:
        cost, used, labels, node, _, hops, path = heapq.heappop(heap)
        if node == -2:
            return Plan(hops, tuple(offers[i] for i in path), cost)
        if node in settled:
            continue
        settled.add(node)
        producer = source if node == -1 else offers[node].gives
        hop = meet(producer, sink, codec=codec, transport=transport)
        if isinstance(hop, Hop):
            count += 1
            heapq.heappush(heap, (cost + _hop_cost(hop), used, (*labels, sink.label), -2,
                                  count, (*hops, hop), path))
        if used >= max_converters:
            continue
        for n, offer in enumerate(offers):
            if n in path or n in settled:
                continue
            hop = meet(producer, offer.takes, transport=transport)
            if isinstance(hop, Hop):
                count += 1
                heapq.heappush(heap, (cost + _hop_cost(hop) + CONVERTER_COST, used + 1,
                                      (*labels, offer.label), n, count, (*hops, hop),
                                      (*path, n)))
    raise NoPath(explain(source, sink, candidates, codec=codec, transport=transport))


def _hop_cost(hop: Hop) -> int:
    return CROSS_MODULE_COST if hop.cross_module else 0


def through(source: Side, sink: Side, via: Sequence[tuple[Side, Side]], *, codec: str = "",
            transport: str = "") -> tuple[Hop, ...]:
    """The hops of a route pinned by the caller: existing converters, in order, each as
    (what it takes, what it gives); NoPath naming the first hop whose sides do not meet."""
    producers = [source, *(gives for _, gives in via)]
    consumers = [*(takes for takes, _ in via), sink]
    hops = []
    for n, (producer, consumer) in enumerate(zip(producers, consumers, strict=True)):
        last = n == len(consumers) - 1
        hop = meet(producer, consumer, codec=codec if last else "", transport=transport)
        if not isinstance(hop, Hop):
            raise NoPath(f"no path through the converters given: hop {n + 1}"
                         f" {producer.label} -> {consumer.label}: {hop}; {producer.label}"
                         f" offers {producer.offer_text()}, {consumer.label} takes"
                         f" {consumer.offer_text()}")
        hops.append(hop)
    return tuple(hops)


def explain(source: Side, sink: Side, converters: Sequence[ConverterOffer], *,
            codec: str = "", transport: str = "") -> str:
    """Why no path: the direct hop's miss, the capability a bridging converter lacks, both
    sides' offers, and each converter on offer with where it fails."""
    direct = meet(source, sink, codec=codec, transport=transport)
    why = direct if isinstance(direct, str) else "the direct hop meets, but no chain fits"
    wanted = codec or (names(sink.codecs) if sink.codecs else "any")
    missing = (f"missing capability: a {source.media} converter taking"
               f" {source.media}:{names(source.codecs) if source.codecs else 'any'} and"
               f" giving {sink.media}:{wanted}")
    lines = [f"no pipeline path from {source.label} to {sink.label}: {why}; {missing};"
             f" source {source.label} ({source.type}) offers {source.offer_text()};"
             f" sink {sink.label} ({sink.type}) takes {sink.offer_text()}"]
    if not converters:
        lines.append(f"no module offers a {source.media} converter")
    for offer in converters:
        if not offer.ready:
            lines.append(f"converter {offer.label} is {offer.state}, not READY")
            continue
        into = meet(source, offer.takes, transport=transport)
        out = meet(offer.gives, sink, codec=codec, transport=transport)
        problems = []
        if isinstance(into, str):
            problems.append(f"in: {into}")
        if isinstance(out, str):
            problems.append(f"out: {out}")
        lines.append(f"converter {offer.label} takes {offer.takes.codecs_text()}, gives"
                     f" {offer.gives.codecs_text()}"
                     + (f" ({'; '.join(problems)})" if problems else
                        " (fits each end, but not in a chain of at most"
                        f" {MAX_CONVERTERS})"))
    return "; ".join(lines)
