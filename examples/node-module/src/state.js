'use strict';
// The module state machine (contract §2.4) and health (rules H-6, H-9, H-25).
const { randomUUID } = require('node:crypto');

const STATES = { STARTING: 1, READY: 2, ERROR: 3, STOPPING: 4 };
const HEALTH = { HEALTHY: 1, DEGRADED: 2, UNHEALTHY: 3 };
const ALLOWED = {
  1: [2, 3, 4], 2: [3, 4], 3: [2, 4], 4: [],
};

class ModuleStatus {
  constructor() {
    this.instanceId = randomUUID();
    this.startedAt = Date.now();
    this.state = STATES.STARTING;
    this.health = HEALTH.HEALTHY;
    this.errorMessage = '';
    this.listeners = [];
  }

  get ready() { return this.state === STATES.READY; }

  transition(next, message = '') {
    if (next === this.state) return false;
    if (!ALLOWED[this.state].includes(next)) {
      throw new Error(`module state ${this.state} cannot change to ${next}`);
    }
    this.state = next;
    if (next === STATES.ERROR) {
      this.health = HEALTH.UNHEALTHY;
      this.errorMessage = message || 'module failed';
    } else if (next === STATES.READY) {
      this.health = HEALTH.HEALTHY;
      this.errorMessage = '';
    }
    for (const listener of this.listeners) listener(next);
    return true;
  }

  toMessage() {
    return {
      state: this.state, health: this.health, errorMessage: this.errorMessage,
      lastHeartbeat: timestamp(Date.now()), instanceId: this.instanceId,
      startedAt: timestamp(this.startedAt),
    };
  }
}

function timestamp(ms) {
  return { seconds: Math.floor(ms / 1000), nanos: Math.floor((ms % 1000) * 1e6) };
}

module.exports = { ModuleStatus, STATES, HEALTH, timestamp };
