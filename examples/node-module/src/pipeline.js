'use strict';
// Connections and flows (rules P-1 to P-24): roles, endpoints of §4.1, exact codes,
// idempotency, and flow states measured from the media actually moving.
const {
  invalid, notFound, precondition, exists, checkId, checkName, MPEGTS_CODECS, TRANSPORTS,
} = require('./errors');
const { STATE, MEDIA } = require('./entities');
const { Receiver, Sender } = require('./media');
const { timestamp } = require('./state');

const ROLE = { LOCAL: 1, SOURCE: 2, TARGET: 3 };
const FLOW = { INITIALIZING: 1, ACTIVE: 2, STOPPED: 3, ERROR: 4 };
const CONN = { ESTABLISHED: 1, ACTIVE: 2, STOPPED: 3, ERROR: 4, CLOSED: 5 };
const STALL_MS = 3000; // P-11 allows a shorter stall period than 5 s (module.yaml says 3s)
const START_MS = 5000; // P-21 allows a shorter start period than 10 s (module.yaml says 5s)

class Pipeline {
  constructor(rt) {
    this.rt = rt;
    this.connections = new Map();
    this.existed = new Set();
    this.flows = new Map();
    this.ticker = setInterval(() => this.tick(), 250);
    this.ticker.unref();
  }

  // -- connections ------------------------------------------------------------------------------
  async connect(req) {
    checkId('connection_id', req.connectionId);
    const role = req.role;
    if (![ROLE.LOCAL, ROLE.SOURCE, ROLE.TARGET].includes(role)) {
      throw invalid('role is required: CONNECTION_ROLE_LOCAL, _TARGET (first) or _SOURCE (then)');
    }
    const media = MEDIA[req.mediaType];
    if (!media) throw invalid('media_type is required: MEDIA_TYPE_VIDEO or MEDIA_TYPE_AUDIO');
    checkId('source_entity_id', req.sourceEntityId);
    checkId('target_entity_id', req.targetEntityId);
    const transport = role === ROLE.LOCAL ? 'local'
      : (role === ROLE.TARGET ? req.transportProtocol : (req.endpoint || {}).transport) || 'mpegts-udp';
    const key = JSON.stringify([role, req.sourceEntityId, req.targetEntityId, req.mediaType,
      quality(req.quality), transport, role === ROLE.SOURCE ? (req.endpoint || {}).url : '']);
    const existing = this.connections.get(req.connectionId);
    if (existing) {
      if (existing.key === key) return existing;
      throw exists(`connection_id '${req.connectionId}' exists with different arguments: ` +
        'disconnect it first or use a new connection_id');
    }
    const source = role !== ROLE.TARGET ? this.end(req.sourceEntityId, 'source_entity_id', media, 'source') : null;
    const target = role !== ROLE.SOURCE ? this.end(req.targetEntityId, 'target_entity_id', media, 'target') : null;
    const conn = {
      id: req.connectionId, role, media, key, transport, source, target,
      sourceEntityId: req.sourceEntityId, targetEntityId: req.targetEntityId,
      sourceModuleId: req.sourceModuleId || (source ? this.rt.settings.moduleId : ''),
      targetModuleId: req.targetModuleId || (target ? this.rt.settings.moduleId : ''),
      quality: quality(req.quality), endpoint: null, state: CONN.ESTABLISHED, flow: '',
      receiver: null, sender: null, errorMessage: '',
    };
    const asked = media === 'video' ? conn.quality.videoCodec : conn.quality.audioCodec;
    if (role === ROLE.TARGET) this.checkTransport(target, transport, 'transport_protocol');
    if (role === ROLE.SOURCE) this.checkEndpoint(source, req.endpoint, transport);
    this.checkCodec(asked, source, target, transport);
    if (role === ROLE.TARGET) {
      conn.receiver = new Receiver(this.rt.settings.bindHost);
      const port = await conn.receiver.bind();
      let host = this.rt.settings.advertiseHost || this.rt.settings.bindHost;
      host = { '0.0.0.0': '127.0.0.1', '::': '::1' }[host] || host;
      conn.endpoint = {
        transport, url: `udp://${host.includes(':') ? `[${host}]` : host}:${port}?pkt_size=1316`,
        format: { container: 'mpegts', videoCodec: media === 'video' ? asked : '',
          audioCodec: media === 'audio' ? asked : '' },
      };
    } else if (role === ROLE.SOURCE) {
      conn.endpoint = { transport, url: req.endpoint.url, format: req.endpoint.format || {} };
    }
    const local = target || source;
    for (const entity of [source, target]) if (entity) entity.connections.add(conn.id);
    this.connections.set(conn.id, conn);
    this.existed.add(conn.id);
    this.rt.reporter.event('CONNECTION_CREATED', {
      entity: local.id, connection: conn.id, message: `${conn.sourceEntityId} -> ${conn.targetEntityId}`,
      details: { source_entity_id: conn.sourceEntityId, target_entity_id: conn.targetEntityId },
    });
    return conn;
  }

  end(id, field, media, side) {
    const entity = this.rt.entities.get(id, field);
    const kind = this.rt.types.get(entity.type).kind;
    if ((side === 'source' && kind === 'sink') || (side === 'target' && kind === 'source')) {
      throw precondition(`${field}: entity '${id}' is a ${kind} and cannot be a connection's ${side}`);
    }
    if (entity.media !== media) {
      throw precondition(`${field}: entity '${id}' carries ${entity.media.toUpperCase()}, the ` +
        `connection ${media.toUpperCase()}: connect entities of one media type`);
    }
    return entity;
  }

  checkTransport(entity, transport, field) {
    if (!(transport in TRANSPORTS)) {
      throw invalid(`${field} '${transport}' is not a transport of contract §4.1: use ` +
        `${Object.keys(TRANSPORTS).join(', ')}`);
    }
    const offered = this.rt.types.get(entity.type).protocols;
    if (!offered.some((p) => p in TRANSPORTS)) {
      throw precondition(`entity '${entity.id}' takes LOCAL connections only: its type lists no ` +
        '§4.1 transport in protocols');
    }
    if (!offered.includes(transport)) {
      throw precondition(`entity '${entity.id}' does not speak transport '${transport}': it ` +
        `speaks ${offered.join(', ')} (protocols)`);
    }
  }

  checkEndpoint(source, endpoint, transport) {
    if (!endpoint || !endpoint.url) {
      throw invalid('endpoint.url is required for role SOURCE: pass the endpoint the target\'s ' +
        'module returned');
    }
    this.checkTransport(source, transport, 'endpoint.transport');
    let url;
    try { url = new URL(endpoint.url); } catch { url = null; }
    const port = url ? Number(url.port) : 0;
    if (!url || url.protocol !== `${TRANSPORTS[transport]}:` || !url.hostname || !url.port
        || port < 1 || port > 65535) {
      throw invalid(`endpoint.url '${endpoint.url}' is not a ${TRANSPORTS[transport]}:// URL with ` +
        'a host and a port 1-65535');
    }
  }

  checkCodec(asked, source, target, transport) {
    if (!asked) return;
    const takes = target ? this.rt.types.get(target.type).codecs : [];
    const produces = source ? this.rt.types.get(source.type).codecs : [];
    if (takes.length && !takes.includes(asked)) {
      throw precondition(`quality codec '${asked}': entity '${target.id}' takes codecs ${takes.join(', ')}`);
    }
    if (produces.length && !produces.includes(asked)) {
      throw precondition(`quality codec '${asked}': entity '${source.id}' produces ` +
        `${produces.join(', ')} and does not transcode`);
    }
    if (transport !== 'local' && !MPEGTS_CODECS.has(asked)) {
      throw precondition(`quality codec '${asked}' cannot travel over ${transport}: MPEG-TS has ` +
        'no stream type for it');
    }
  }

  disconnect(id) {
    checkId('connection_id', id);
    const conn = this.connections.get(id);
    if (!conn) {
      if (this.existed.has(id)) return false;
      throw notFound(`connection_id: connection '${id}' does not exist in this module instance`);
    }
    const flow = this.flows.get(conn.flow);
    if (flow && flow.state !== FLOW.STOPPED) { // P-14
      flow.lost = `connection '${id}' was removed while flow '${flow.id}' ran`;
      this.settle(flow);
    }
    this.stopMedia(conn);
    if (conn.receiver) conn.receiver.close();
    this.connections.delete(id);
    conn.state = CONN.CLOSED;
    for (const entity of [conn.source, conn.target]) {
      if (entity) { entity.connections.delete(id); this.refreshEntity(entity); }
    }
    this.rt.reporter.event('CONNECTION_REMOVED', {
      entity: (conn.target || conn.source).id, connection: id, message: 'removed',
      details: { source_entity_id: conn.sourceEntityId, target_entity_id: conn.targetEntityId },
    });
    return true;
  }

  // -- flows ------------------------------------------------------------------------------------
  startFlow(req) {
    checkId('flow_id', req.flowId);
    checkName('name', req.name || '');
    const ids = req.connectionIds || [];
    if (!ids.length) throw invalid('connection_ids is empty: list the flow\'s connections');
    ids.forEach((id, n) => checkId(`connection_ids[${n}]`, id));
    if (new Set(ids).size !== ids.length) throw invalid('connection_ids names a connection twice');
    const existing = this.flows.get(req.flowId);
    if (existing) {
      if (existing.state === FLOW.STOPPED) {
        throw precondition(`flow '${req.flowId}' was stopped and flow ids are not reused`);
      }
      if (JSON.stringify(existing.ids) === JSON.stringify(ids)) return existing;
      throw exists(`flow '${req.flowId}' runs other connections: use a new flow_id`);
    }
    const conns = ids.map((id, n) => {
      const conn = this.connections.get(id);
      if (!conn) throw notFound(`connection_ids[${n}]: connection '${id}' does not exist`);
      const other = this.flows.get(conn.flow);
      if (other && other.state !== FLOW.STOPPED) {
        throw precondition(`connection '${id}' already runs in flow '${other.id}': stop that flow first`);
      }
      return conn;
    });
    const flow = {
      id: req.flowId, name: req.name || req.flowId, ids, conns, state: FLOW.INITIALIZING,
      health: 1, errorMessage: '', lost: '', createdAt: Date.now(), startedAt: Date.now(),
      moved: false, lastMoving: 0,
    };
    this.flows.set(flow.id, flow);
    for (const conn of [...conns].reverse()) { // downstream first: listeners before senders
      conn.flow = flow.id;
      this.startMedia(conn);
    }
    this.rt.reporter.event('FLOW_STARTED', { flow: flow.id, message: `flow ${flow.name} started` });
    for (const conn of conns) for (const e of [conn.source, conn.target]) if (e) this.refreshEntity(e);
    return flow;
  }

  startMedia(conn) {
    if (conn.role === ROLE.TARGET) {
      conn.receiver.start();
      return;
    }
    conn.sender = new Sender(conn.source.config, conn.role === ROLE.SOURCE ? conn.endpoint.url : '');
    conn.sender.start();
  }

  stopMedia(conn) {
    if (conn.receiver) conn.receiver.stop();
    if (conn.sender) { conn.sender.stop(); conn.sender = null; }
  }

  meter(conn) {
    return conn.role === ROLE.TARGET ? conn.receiver.meter : conn.sender && conn.sender.meter;
  }

  stopFlow(id) {
    checkId('flow_id', id);
    const flow = this.flows.get(id);
    if (!flow) throw notFound(`flow_id: flow '${id}' does not exist in this module instance`);
    if (flow.state === FLOW.STOPPED) return { flow, stopped: false };
    for (const conn of flow.conns) {
      this.stopMedia(conn);
      if (conn.state !== CONN.CLOSED) conn.state = CONN.STOPPED;
    }
    flow.state = FLOW.STOPPED;
    flow.errorMessage = '';
    flow.health = 1;
    this.rt.reporter.event('FLOW_STOPPED', { flow: id, message: `flow ${flow.name} stopped` });
    for (const conn of flow.conns) for (const e of [conn.source, conn.target]) if (e) this.refreshEntity(e);
    return { flow, stopped: true };
  }

  getFlow(id) {
    checkId('flow_id', id);
    const flow = this.flows.get(id);
    if (!flow) throw notFound(`flow_id: flow '${id}' does not exist in this module instance`);
    this.settle(flow);
    return flow;
  }

  adjustQuality(req) {
    checkId('flow_id', req.flowId);
    if (req.connectionId) checkId('connection_id', req.connectionId);
    const flow = this.flows.get(req.flowId);
    if (!flow) throw notFound(`flow_id: flow '${req.flowId}' does not exist`);
    if (flow.state === FLOW.STOPPED) throw precondition(`flow '${flow.id}' is stopped`);
    const conns = req.connectionId ? flow.conns.filter((c) => c.id === req.connectionId) : flow.conns;
    if (!conns.length) {
      throw notFound(`connection_id '${req.connectionId}' is not a connection of flow '${flow.id}' here`);
    }
    if (conns.some((c) => c.role !== ROLE.TARGET)) {
      throw precondition('testsrc cannot change quality on a running flow: start a new flow');
    }
    const wanted = quality(req.quality);
    for (const conn of conns) { // a target records it; its receiver follows the stream (P-20)
      for (const [k, v] of Object.entries(wanted)) {
        if (k === 'resolution') {
          for (const [rk, rv] of Object.entries(v)) if (rv) conn.quality.resolution[rk] = rv;
        } else if (v) conn.quality[k] = v;
      }
      this.rt.reporter.event('QUALITY_CHANGED', {
        entity: conn.target.id, connection: conn.id, flow: flow.id, message: 'quality recorded',
        details: { source_entity_id: conn.sourceEntityId, target_entity_id: conn.targetEntityId },
      });
    }
    return conns;
  }

  // -- measured state (P-10, P-11, P-14, P-21, P-22) ---------------------------------------------
  tick() {
    for (const flow of this.flows.values()) if (flow.state !== FLOW.STOPPED) this.settle(flow);
  }

  settle(flow) {
    if (flow.state === FLOW.STOPPED) return;
    const now = Date.now();
    const last = flow.conns[flow.conns.length - 1];
    const meter = this.meter(last);
    const moving = !!meter && meter.moving(now);
    for (const conn of flow.conns) {
      if (conn.state === CONN.CLOSED) continue;
      const m = this.meter(conn);
      conn.state = m && m.moving(now) ? CONN.ACTIVE : conn.state === CONN.ACTIVE ? CONN.ERROR : conn.state;
    }
    let state;
    let message = '';
    if (flow.lost) {
      [state, message] = [FLOW.ERROR, flow.lost];
    } else if (moving) {
      flow.moved = true;
      flow.lastMoving = now;
      state = FLOW.ACTIVE;
    } else if (flow.moved && now - flow.lastMoving > STALL_MS) {
      [state, message] = [FLOW.ERROR, `stalled: no media measured at connection '${last.id}' ` +
        `for ${STALL_MS / 1000} s`];
    } else if (!flow.moved && now - flow.startedAt > START_MS) {
      [state, message] = [FLOW.ERROR, `no media arrived at connection '${last.id}' within ` +
        `${START_MS / 1000} s of StartFlow`];
    } else {
      state = flow.moved ? FLOW.ACTIVE : FLOW.INITIALIZING;
    }
    if (state === FLOW.ERROR && flow.state !== FLOW.ERROR) {
      this.rt.reporter.event('ERROR', { flow: flow.id, connection: last.id, message });
    }
    flow.state = state;
    flow.errorMessage = message;
    flow.health = state === FLOW.ERROR ? 3 : 1;
  }

  refreshEntity(entity) {
    if (entity.state === STATE.DESTROYED || entity.state === STATE.ERROR) return;
    const running = [...entity.connections].some((id) => {
      const flow = this.flows.get((this.connections.get(id) || {}).flow);
      return flow && flow.state !== FLOW.STOPPED;
    });
    this.rt.entities.setState(entity, running ? STATE.ACTIVE : STATE.CONFIGURED); // N-14
  }

  // -- messages ---------------------------------------------------------------------------------
  connectionMessage(conn) {
    const meter = this.meter(conn);
    const rate = meter ? meter.rate() : { fps: 0, bitrate: 0 };
    return {
      id: conn.id, sourceEntityId: conn.sourceEntityId, targetEntityId: conn.targetEntityId,
      mediaType: conn.media === 'video' ? 2 : 1, transportProtocol: conn.transport,
      quality: conn.quality, status: { state: conn.state, health: 1, errorMessage: conn.errorMessage },
      metrics: { bitrateBps: rate.bitrate, fps: rate.fps, frames: meter ? meter.frames : 0,
        latencyMs: -1, droppedFrames: 0, restarts: 0 },
      sourceModuleId: conn.sourceModuleId, targetModuleId: conn.targetModuleId,
      endpoint: conn.endpoint || undefined,
    };
  }

  flowMessage(flow) {
    const conns = flow.conns.map((c) => this.connectionMessage(c));
    const last = conns[conns.length - 1];
    return {
      id: flow.id, name: flow.name, connections: conns,
      status: { state: flow.state, health: flow.health, errorMessage: flow.errorMessage,
        bandwidthUsage: flow.state === FLOW.STOPPED ? 0 : conns.reduce((s, c) => s + c.metrics.bitrateBps, 0),
        latencyMs: -1 },
      metrics: { fps: flow.state === FLOW.STOPPED ? 0 : last.metrics.fps, frames: last.metrics.frames,
        droppedFrames: 0, restarts: 0, bytesWritten: 0 },
      createdAt: timestamp(flow.createdAt), startedAt: timestamp(flow.startedAt),
    };
  }

  async stopAll() {
    for (const flow of this.flows.values()) if (flow.state !== FLOW.STOPPED) this.stopFlow(flow.id);
    for (const id of [...this.connections.keys()]) this.disconnect(id);
    clearInterval(this.ticker);
  }
}

function quality(q = {}) {
  const r = (q && q.resolution) || {};
  return {
    resolution: { width: r.width || 0, height: r.height || 0 }, bitrate: (q && q.bitrate) || 0,
    framerate: (q && q.framerate) || 0, videoCodec: (q && q.videoCodec) || '',
    audioCodec: (q && q.audioCodec) || '',
  };
}

module.exports = { Pipeline, FLOW };
