'use strict';
// Reports to the orchestrator's EventService (rules E-1 to E-10, E-22, E-23): numbered 1, 2,
// 3... per instance the moment they are made, sent in order (one report at once when quiet,
// several queued ones as one ReportBatch), retried with the same numbers, buffered while the
// orchestrator is unreachable, dropped (and declared) when refused for good.
const grpc = require('@grpc/grpc-js');
const { timestamp } = require('./state');

const CAPACITY = 10000;
const MAX_BATCH = 500;
const DEADLINE_MS = 5000;
const NEVER = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION]);

class Reporter {
  constructor({ moduleId, instanceId, client, token }) {
    Object.assign(this, { moduleId, instanceId, client, token });
    this.sequence = 0;
    this.lastMs = 0;
    this.queue = [];
    this.dropped = []; // sequence numbers dropped and not yet declared (E-22)
    this.entities = new Set();
    this.wake = null;
    this.idleWaiters = [];
    this.closed = false;
  }

  // -- making reports: never waits ------------------------------------------------------------
  stamp() {
    this.lastMs = Math.max(Date.now(), this.lastMs); // never backwards (E-9)
    return timestamp(this.lastMs);
  }

  make(kind, body) {
    this.sequence += 1;
    const report = {
      header: { moduleId: this.moduleId, instanceId: this.instanceId, sequence: this.sequence },
      [kind]: body,
    };
    this.queue.push(report);
    while (this.queue.length > CAPACITY) this.dropped.push(this.queue.shift().header.sequence);
    if (this.wake) this.wake();
    return this.sequence;
  }

  event(type, { entity = '', connection = '', flow = '', message = '', severity = 1,
    details = {} } = {}) {
    if (type === 'ENTITY_CREATED') this.entities.add(entity);
    else if (entity && !this.entities.has(entity)) return 0; // E-6/E-7: never about an unknown
    if (type === 'ENTITY_DESTROYED') this.entities.delete(entity);
    return this.make('event', {
      id: `${this.instanceId}-${this.sequence + 1}`, type: `EVENT_TYPE_${type}`,
      severity: type === 'ERROR' ? 3 : type === 'WARNING' ? 2 : severity,
      sourceModuleId: this.moduleId, sourceEntityId: entity, connectionId: connection,
      flowId: flow, message, details, timestamp: this.stamp(),
    });
  }

  status(entity, entityStatus) {
    if (!this.entities.has(entity)) return 0;
    return this.make('status', {
      moduleId: this.moduleId, entityId: entity, entityStatus, timestamp: this.stamp(),
    });
  }

  metrics(entity, { flow = '', connection = '', values = {} }) {
    if (!this.entities.has(entity)) return 0;
    const metrics = {};
    for (const [k, v] of Object.entries(values)) {
      metrics[k] = Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
    }
    return this.make('metrics', {
      moduleId: this.moduleId, entityId: entity, flowId: flow, connectionId: connection,
      metrics, timestamp: this.stamp(),
    });
  }

  // -- sending ----------------------------------------------------------------------------------
  async run() {
    let delay = 50;
    while (!this.closed) {
      if (!this.queue.length || !this.client) {
        this.idleWaiters.splice(0).forEach((resolve) => resolve());
        await new Promise((resolve) => { this.wake = resolve; });
        this.wake = null;
        continue;
      }
      const batch = this.queue.slice(0, MAX_BATCH);
      try {
        await this.send(batch);
        delay = 50;
        this.queue.splice(0, batch.length);
        this.declareDrops();
      } catch (err) {
        if (NEVER.has(err.code)) { // E-23: such an answer means they can never be accepted
          this.queue.splice(0, batch.length);
          this.dropped.push(...batch.map((r) => r.header.sequence));
          continue;
        }
        const jittered = delay * (0.8 + Math.random() * 0.4); // E-3: 50 ms doubling to 2 s
        delay = Math.min(delay * 2, 2000);
        await new Promise((resolve) => setTimeout(resolve, jittered));
      }
    }
  }

  declareDrops() {
    if (!this.dropped.length) return;
    const dropped = this.dropped.splice(0).sort((a, b) => a - b);
    this.event('WARNING', {
      message: `dropped ${dropped.length} reports`,
      details: {
        dropped_reports: String(dropped.length), first_dropped: String(dropped[0]),
        last_dropped: String(dropped[dropped.length - 1]),
      },
    });
  }

  send(batch) {
    const metadata = new grpc.Metadata();
    if (this.token) metadata.set('authorization', `Bearer ${this.token}`);
    const options = { deadline: Date.now() + DEADLINE_MS };
    const call = (method, request) => new Promise((resolve, reject) => {
      this.client[method](request, metadata, options, (err, res) => (err ? reject(err) : resolve(res)));
    });
    if (batch.length > 1) return call('ReportBatch', { reports: batch });
    const [report] = batch;
    if (report.event) return call('ReportEvent', { header: report.header, event: report.event });
    if (report.status) return call('ReportStatus', { header: report.header, status: report.status });
    return call('ReportMetrics', { header: report.header, metrics: report.metrics });
  }

  flush(ms) {
    if (!this.queue.length || !this.client) return Promise.resolve();
    return Promise.race([new Promise((resolve) => this.idleWaiters.push(resolve)),
      new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))]);
  }

  close() {
    this.closed = true;
    if (this.wake) this.wake();
  }
}

module.exports = { Reporter };
