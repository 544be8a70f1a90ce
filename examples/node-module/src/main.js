'use strict';
// A mediagrid module in Node.js, written from proto/mediagrid/v1/*.proto and docs/contract.md:
// `node src/main.js` with GRPC_PORT and MEDIAGRID_MODULE_ID set (module.yaml says so).
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { HealthImplementation, protoPath: healthProto } = require('grpc-health-check');
const YAML = require('yaml');

const { settings: readSettings, EnvError } = require('./env');
const { ModuleStatus, STATES } = require('./state');
const { Reporter } = require('./reporter');
const { Entities, EntityType } = require('./entities');
const { Pipeline } = require('./pipeline');
const { ModuleError, unavailable } = require('./errors');
const { reflection } = require('./reflection');

const HERE = path.resolve(__dirname, '..');
const PROTO_ROOT = process.env.MEDIAGRID_PROTO_DIR || path.resolve(HERE, '..', '..', 'proto');
const PROTOS = ['common', 'module', 'entity', 'pipeline', 'event', 'config']
  .map((name) => `mediagrid/v1/${name}.proto`);
const DEFAULT_GRACE_MS = 5000;
const MODULE_SERVICE = 'mediagrid.v1.ModuleService';

const REFLECTION_PROTOS = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')),
  'build', 'proto');

function load() {
  const options = { keepCase: false, longs: Number, enums: Number, defaults: true, oneofs: true,
    includeDirs: [PROTO_ROOT, path.dirname(path.dirname(path.dirname(healthProto))),
      REFLECTION_PROTOS] };
  const definition = protoLoader.loadSync(PROTOS, options);
  // Reflection lists what this module serves (H-4): its three services, health, reflection.
  const served = protoLoader.loadSync(['mediagrid/v1/module.proto', 'mediagrid/v1/entity.proto',
    'mediagrid/v1/pipeline.proto', healthProto, 'grpc/reflection/v1alpha/reflection.proto',
    'grpc/reflection/v1/reflection.proto'], { ...options, keepCase: true }); // proto field names
  const loaded = grpc.loadPackageDefinition(served).grpc.reflection;
  return { served, reflectionPackages: [loaded.v1alpha, loaded.v1],
    v1: grpc.loadPackageDefinition(definition).mediagrid.v1 };
}

function main() {
  let settings;
  try {
    settings = readSettings();
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    process.stderr.write(`node-example: ${err.message}\n`);
    process.exit(2);
  }
  const manifest = YAML.parse(fs.readFileSync(path.join(HERE, 'module.yaml'), 'utf8'));
  const { served, reflectionPackages, v1 } = load();
  const status = new ModuleStatus();
  const client = settings.orchestrator
    ? new v1.EventService(settings.orchestrator, grpc.credentials.createInsecure()) : null;
  const rt = { settings, status, manifest, types: new Map() };
  for (const spec of manifest.entity_types) rt.types.set(spec.type, new EntityType(spec));
  rt.reporter = new Reporter({ moduleId: settings.moduleId, instanceId: status.instanceId,
    client, token: settings.token });
  rt.entities = new Entities(rt);
  rt.pipeline = new Pipeline(rt);

  const health = new HealthImplementation({ '': 'NOT_SERVING', [MODULE_SERVICE]: 'NOT_SERVING' });
  status.listeners.push((state) => {
    const serving = state === STATES.READY ? 'SERVING' : 'NOT_SERVING'; // H-7
    health.setStatus('', serving);
    health.setStatus(MODULE_SERVICE, serving);
  });

  const server = new grpc.Server({ 'grpc.so_reuseport': 0, 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  const token = settings.token ? Buffer.from(settings.token) : null;
  const admitted = (call) => {
    if (!token) return true;
    const given = call.metadata.get('authorization');
    if (given.length !== 1) return false;
    const [scheme, ...rest] = String(given[0]).split(' ');
    const presented = Buffer.from(rest.join(' '));
    return scheme.toLowerCase() === 'bearer' && rest.length === 1 // one space (S-8)
      && presented.length === token.length && crypto.timingSafeEqual(presented, token);
  };
  // Every mediagrid RPC: the token first (S-2), then READY (H-10), then the call.
  const rpc = (fn, { ready = true } = {}) => async (call, callback) => {
    try {
      if (!admitted(call)) {
        throw new ModuleError(grpc.status.UNAUTHENTICATED, 'missing or wrong token: send ' +
          "'authorization: Bearer <token>' with the token given in MEDIAGRID_TOKEN");
      }
      if (ready && !status.ready) {
        throw unavailable(`module is ${Object.keys(STATES).find((k) => STATES[k] === status.state)}` +
          ', not READY: retry after HealthCheck reports READY');
      }
      callback(null, await fn(call.request));
    } catch (err) {
      if (err instanceof ModuleError) callback({ code: err.code, details: err.message });
      else callback({ code: grpc.status.INTERNAL, details: String(err && err.stack || err) });
    }
  };

  let shutdown = null;
  const stop = (graceMs, reason) => {
    if (shutdown) return false;
    status.transition(STATES.STOPPING);
    setTimeout(() => { // H-26: when the grace runs out first, exit 0 anyway, saying so
      process.stderr.write('node-example: the grace period ran out before everything stopped\n');
      server.forceShutdown();
      process.exit(0);
    }, graceMs).unref();
    shutdown = (async () => {
      const deadline = Date.now() + graceMs;
      process.stderr.write(`node-example: stopping (${reason || 'asked'})\n`);
      await rt.pipeline.stopAll(); // FLOW_STOPPED, CONNECTION_REMOVED (H-26)
      for (const id of [...rt.entities.live.keys()]) rt.entities.destroy(id);
      await rt.reporter.flush(deadline - Date.now() - 200);
      rt.reporter.close();
      server.forceShutdown(); // serving (HealthCheck, Shutdown: H-22) until the very end
      process.exit(0);
    })();
    return true;
  };
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => stop(DEFAULT_GRACE_MS, signal));

  server.addService(v1.ModuleService.service, {
    HealthCheck: rpc(() => ({
      moduleId: settings.moduleId, status: status.toMessage(),
      entityTypes: [...rt.types.values()].map((t) => t.info()),
      entityCount: rt.entities.live.size, version: manifest.version || '0.0.0',
    }), { ready: false }),
    Shutdown: rpc((req) => {
      const grace = req.gracePeriod ? (Number(req.gracePeriod.seconds) * 1000
        + Math.floor((req.gracePeriod.nanos || 0) / 1e6)) : 0;
      return { initiated: stop(grace > 0 ? grace : DEFAULT_GRACE_MS, req.reason) };
    }, { ready: false }),
  });
  const entityMessage = (entity) => rt.entities.message(entity);
  server.addService(v1.EntityService.service, {
    CreateEntity: rpc((req) => {
      const { entity, created } = rt.entities.create(req);
      return { entity: entityMessage(entity), created };
    }),
    ConfigureEntity: rpc((req) => ({ entity: entityMessage(rt.entities.configure(req)) })),
    GetEntityStatus: rpc((req) => {
      const entity = rt.entities.get(req.entityId);
      return { entityId: entity.id, status: rt.entities.status(entity) };
    }),
    DestroyEntity: rpc((req) => ({ destroyed: rt.entities.destroy(req.entityId) })),
    ListEntities: rpc((req) => rt.entities.list(req)),
  });
  const p = rt.pipeline;
  server.addService(v1.PipelineService.service, {
    ConnectEntities: rpc(async (req) => ({ connection: p.connectionMessage(await p.connect(req)) })),
    DisconnectEntities: rpc((req) => ({ disconnected: p.disconnect(req.connectionId) })),
    StartFlow: rpc((req) => ({ flow: p.flowMessage(p.startFlow(req)) })),
    StopFlow: rpc((req) => {
      const { flow, stopped } = p.stopFlow(req.flowId);
      return { flow: p.flowMessage(flow), stopped };
    }),
    GetFlowStatus: rpc((req) => ({ flow: p.flowMessage(p.getFlow(req.flowId)) })),
    AdjustQuality: rpc((req) => ({ connections: p.adjustQuality(req).map((c) => p.connectionMessage(c)) })),
  });
  health.addToServer(server);
  const listed = [MODULE_SERVICE, 'mediagrid.v1.EntityService', 'mediagrid.v1.PipelineService',
    'grpc.health.v1.Health', 'grpc.reflection.v1alpha.ServerReflection',
    'grpc.reflection.v1.ServerReflection'];
  for (const pkg of reflectionPackages) {
    const { service, implementation } = reflection(served, listed, pkg);
    server.addService(service, implementation);
  }

  const host = settings.bindHost.includes(':') ? `[${settings.bindHost}]` : settings.bindHost;
  server.bindAsync(`${host}:${settings.port}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) { // H-2: the port is taken (or the host is not local)
      process.stderr.write(`node-example: cannot bind ${host}:${settings.port}: ${err.message}\n`);
      process.exit(98);
    }
    rt.reporter.run();
    status.transition(STATES.READY);
    process.stderr.write(`node-example: ${settings.moduleId} (instance ${status.instanceId}) ` +
      `READY on ${host}:${settings.port}\n`);
  });
}

main();
