'use strict';
// Entities (rules N-1 to N-20): one media type each, ids and limits checked before any lookup,
// request_id idempotency, exact status codes, creation-order paging, redacted secrets.
const Ajv2020 = require('ajv/dist/2020');
const {
  invalid, notFound, precondition, exists, checkId, checkName, checkConfig, LIMITS, length,
} = require('./errors');
const { timestamp } = require('./state');

const STATE = { CREATED: 1, CONFIGURED: 2, ACTIVE: 3, ERROR: 4, DESTROYED: 5 };
const MEDIA = { 1: 'audio', 2: 'video' };
const MEDIA_VALUE = { audio: 1, video: 2 };
const KIND = { source: 1, sink: 2, converter: 3, protocol: 4 };
const SECRET_WORDS = ['password', 'secret', 'token'];
const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;

const ajv = new Ajv2020({ allErrors: false, strict: false });

class EntityType {
  constructor(spec) {
    Object.assign(this, spec);
    this.codecs = spec.codecs || [];
    this.protocols = spec.protocols || [];
    this.validate = spec.config ? ajv.compile(spec.config) : null;
  }

  isSecret(key) {
    const prop = ((this.config || {}).properties || {})[key];
    return SECRET_WORDS.some((w) => key.toLowerCase().includes(w)) || !!(prop && prop.writeOnly);
  }

  withDefaults(config) {
    const result = { ...config };
    for (const [key, prop] of Object.entries((this.config || {}).properties || {})) {
      if (!(key in result) && typeof prop.default === 'string') result[key] = prop.default;
    }
    return result;
  }

  check(config) {
    if (!this.validate || this.validate(config)) return;
    const [error] = this.validate.errors;
    const key = error.params.additionalProperty || error.params.missingProperty
      || error.instancePath.replace(/^\//, '');
    throw invalid(`config.${key} ${error.message} (entity type '${this.type}'): ` +
      `fix config.${key} and send it again`);
  }

  info() {
    const caps = (media) => ({
      supportedProtocols: this.protocols, supportedCodecs: this.codecs,
      mediaType: MEDIA_VALUE[media], properties: this.properties || {},
    });
    return {
      type: this.type, kind: KIND[this.kind], description: this.description || '',
      capabilities: this.media_types.map(caps), outputCapabilities: [],
    };
  }
}

class Entity {
  constructor(id, name, type, media, config) {
    Object.assign(this, { id, name, type, media, config });
    this.state = STATE.CONFIGURED;
    this.health = 1;
    this.errorMessage = '';
    this.connections = new Set();
    this.createdAt = Date.now();
    this.updatedAt = this.createdAt;
  }
}

class Entities {
  constructor(rt) {
    this.rt = rt;
    this.live = new Map(); // id -> Entity, in creation order
    this.ordinals = new Map();
    this.nextOrdinal = 1;
    this.existed = new Set();
    this.requests = new Map(); // request_id -> { entity, args }
    this.assigned = 0;
  }

  // -- helpers ----------------------------------------------------------------------------------
  redacted(entity) {
    const type = this.rt.types.get(entity.type);
    return Object.fromEntries(Object.entries(entity.config).map(
      ([k, v]) => [k, type.isSecret(k) ? '***' : v]));
  }

  keepSecrets(type, changes, inForce) {
    const result = { ...changes };
    for (const [key, value] of Object.entries(changes)) {
      if (value === '***' && type.isSecret(key)) {
        if (!(key in inForce)) {
          throw invalid(`config.${key} is "***", the redaction of a secret, but ${key} has no ` +
            'value in force to keep: send the real value');
        }
        result[key] = inForce[key];
      }
    }
    return result;
  }

  status(entity) {
    return {
      state: entity.state, health: entity.health, errorMessage: entity.errorMessage,
      activeConnections: [...entity.connections].sort(), metrics: {},
      createdAt: timestamp(entity.createdAt), lastUpdated: timestamp(entity.updatedAt),
    };
  }

  message(entity) {
    const type = this.rt.types.get(entity.type);
    const caps = {
      supportedProtocols: type.protocols, supportedCodecs: type.codecs,
      mediaType: MEDIA_VALUE[entity.media], properties: type.properties || {},
    };
    const body = {
      id: entity.id, name: entity.name, type: entity.type, config: this.redacted(entity),
      status: this.status(entity), mediaType: MEDIA_VALUE[entity.media],
    };
    const role = type.kind === 'source' ? { source: { ...body, provides: caps } }
      : { sink: { ...body, requires: caps } };
    return { ...role, moduleId: this.rt.settings.moduleId };
  }

  setState(entity, state, health = entity.health, message = entity.errorMessage) {
    if (entity.state === state && entity.health === health && entity.errorMessage === message) {
      return;
    }
    Object.assign(entity, { state, health, errorMessage: message, updatedAt: Date.now() });
    this.rt.reporter.status(entity.id, this.status(entity)); // E-20
  }

  get(id, field = 'entity_id') {
    checkId(field, id);
    const entity = this.live.get(id);
    if (!entity) {
      const why = this.existed.has(id) ? 'was destroyed' : 'does not exist';
      throw notFound(`${field}: entity '${id}' ${why} in this module instance`);
    }
    return entity;
  }

  // -- the calls --------------------------------------------------------------------------------
  create(req) {
    if (length(req.requestId) > LIMITS.id) {
      throw invalid(`request_id is ${length(req.requestId)} characters long: use at most ${LIMITS.id}`);
    }
    checkName('name', req.name);
    checkId('entity_id', req.entityId, false);
    const config = { ...req.config };
    checkConfig('config', config);
    const args = JSON.stringify([req.entityType, req.name, req.mediaType, req.entityId,
      Object.entries(config).sort()]);
    if (req.requestId && this.requests.has(req.requestId)) { // N-2, N-16
      const first = this.requests.get(req.requestId);
      if (first.args !== args) {
        throw exists(`request_id '${req.requestId}' was used by a CreateEntity with other ` +
          `arguments (it created '${first.entity.id}'): use a new request_id`);
      }
      if (first.entity.state === STATE.DESTROYED) {
        throw precondition(`request_id '${req.requestId}' created '${first.entity.id}', ` +
          'destroyed since: a repeat never re-creates it; use a new request_id');
      }
      return { entity: first.entity, created: false };
    }
    const type = this.rt.types.get(req.entityType);
    if (!type) {
      throw invalid(`entity_type '${req.entityType}' is not offered by this module: use one of ` +
        `${[...this.rt.types.keys()].join(', ')}`);
    }
    const media = this.mediaOf(type, req.mediaType);
    const full = type.withDefaults(this.keepSecrets(type, config, {}));
    type.check(full);
    const id = req.entityId || this.newId(type.type);
    if (this.live.has(id)) {
      throw exists(`entity_id '${id}' is in use: destroy it first or choose another id`);
    }
    const entity = new Entity(id, req.name || id, type.type, media, full);
    this.rt.reporter.event('ENTITY_CREATED', { entity: id, message: `${type.type} created`,
      details: { type: type.type } });
    this.rt.reporter.status(id, this.status(entity));
    this.live.set(id, entity);
    this.ordinals.set(id, this.nextOrdinal++);
    this.existed.add(id);
    if (req.requestId) this.requests.set(req.requestId, { entity, args });
    return { entity, created: true };
  }

  mediaOf(type, requested) {
    if (!requested) {
      if (type.media_types.length === 1) return type.media_types[0];
      throw invalid(`media_type is required for entity type '${type.type}'`);
    }
    const media = MEDIA[requested];
    if (!media) throw invalid(`media_type ${requested} is not a media type`);
    if (!type.media_types.includes(media)) {
      throw precondition(`entity type '${type.type}' cannot carry ${media.toUpperCase()}: it ` +
        `carries ${type.media_types.join(', ')}`);
    }
    return media;
  }

  newId(typeName) {
    let id;
    do { id = `${typeName}-${++this.assigned}`; } while (this.existed.has(id));
    return id;
  }

  configure(req) {
    const changes = { ...req.config };
    checkConfig('config', changes);
    const entity = this.get(req.entityId);
    const type = this.rt.types.get(entity.type);
    const kept = this.keepSecrets(type, changes, entity.config);
    const merged = req.replace ? kept : { ...entity.config, ...kept };
    checkConfig('config (merged with the config in force)', merged);
    const full = type.withDefaults(merged);
    type.check(full);
    entity.config = full;
    this.rt.reporter.event('ENTITY_CONFIGURED', { entity: entity.id, message: 'configured' });
    if (entity.state === STATE.ERROR) this.setState(entity, STATE.CONFIGURED, 1, '');
    return entity;
  }

  destroy(id) {
    checkId('entity_id', id);
    const entity = this.live.get(id);
    if (!entity) {
      if (this.existed.has(id)) return false;
      throw notFound(`entity_id: entity '${id}' does not exist in this module instance`);
    }
    for (const connection of [...entity.connections]) this.rt.pipeline.disconnect(connection);
    this.live.delete(id);
    entity.state = STATE.DESTROYED;
    this.rt.reporter.event('ENTITY_DESTROYED', { entity: id, message: 'destroyed' });
    return true;
  }

  list(req) {
    const page = req.page || {};
    const size = page.pageSize || 0;
    if (size < 0) throw invalid(`page.page_size is ${size}: use 0 for ${PAGE_DEFAULT} or 1..${PAGE_MAX}`);
    const limit = size === 0 ? PAGE_DEFAULT : Math.min(size, PAGE_MAX);
    const filter = req.entityType || '';
    let after = 0;
    if (page.pageToken) {
      try {
        const token = JSON.parse(Buffer.from(page.pageToken, 'base64url').toString());
        if (token.i !== this.rt.status.instanceId.slice(0, 8) || !Number.isInteger(token.a)) {
          throw new Error('foreign');
        }
        if (token.f !== filter) {
          throw invalid(`page.page_token was issued for the filter '${token.f}', not '${filter}'`);
        }
        after = token.a;
      } catch (err) {
        if (err.code) throw err;
        throw invalid('page.page_token is not a token this module instance issued: pass the ' +
          'next_page_token of the previous response unchanged, or empty for the first page');
      }
    }
    const ordered = [...this.live.values()].filter((e) => this.ordinals.get(e.id) > after
      && (!filter || e.type === filter));
    const chosen = ordered.slice(0, limit);
    const more = ordered.length > limit;
    const last = chosen.length ? this.ordinals.get(chosen[chosen.length - 1].id) : after;
    const token = more ? Buffer.from(JSON.stringify({
      i: this.rt.status.instanceId.slice(0, 8), a: last, f: filter,
    })).toString('base64url') : '';
    return { entities: chosen.map((e) => this.message(e)), nextPageToken: token };
  }
}

module.exports = { Entities, EntityType, STATE, MEDIA, MEDIA_VALUE };
