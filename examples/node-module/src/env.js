'use strict';
// The §2.1 environment. A bad variable exits 2 naming it (rules H-3, H-23, H-24).
const fs = require('node:fs');

class EnvError extends Error {}

const MODULE_ID = /^[a-z][a-z0-9-]{0,62}$/;

function port(name, text) {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new EnvError(`${name}=${JSON.stringify(text)} is not a port number: set ${name} to ` +
      'an integer between 1 and 65535');
  }
  return Number(text);
}

function address(name, text) {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]+)$/.exec(text);
  if (!match) {
    throw new EnvError(`${name}=${JSON.stringify(text)} is not host:port: set it like ` +
      '127.0.0.1:50050 (an IPv6 host in brackets), or leave it empty to run standalone');
  }
  port(name, match[2]);
  return text;
}

function readable(name, path) {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new EnvError(`${name}=${JSON.stringify(path)} cannot be read (${err.code}): point it ` +
      'at a readable PEM file');
  }
}

function settings(env = process.env) {
  const raw = (env.GRPC_PORT || '').trim();
  if (!raw) {
    throw new EnvError('GRPC_PORT is not set: set GRPC_PORT to the TCP port this module ' +
      'should serve on (1-65535)');
  }
  const moduleId = env.MEDIAGRID_MODULE_ID || '';
  if (!MODULE_ID.test(moduleId)) {
    throw new EnvError(`MEDIAGRID_MODULE_ID=${JSON.stringify(moduleId)} is missing or not a ` +
      'module id: the orchestrator sets it; by hand use lowercase letters, digits and -');
  }
  const orchestrator = (env.MEDIAGRID_ORCHESTRATOR_ADDRESS || '').trim();
  const tls = {};
  for (const [key, name] of [['cert', 'MEDIAGRID_TLS_CERT_FILE'], ['key', 'MEDIAGRID_TLS_KEY_FILE'],
    ['ca', 'MEDIAGRID_TLS_CLIENT_CA_FILE'], ['orchestratorCa', 'MEDIAGRID_ORCHESTRATOR_CA_FILE']]) {
    if (env[name]) tls[key] = readable(name, env[name]);
  }
  if (tls.cert || tls.key || tls.ca) {
    throw new EnvError('MEDIAGRID_TLS_CERT_FILE: this module does not serve TLS (module.yaml ' +
      'says security.tls: false); unset the MEDIAGRID_TLS_* variables');
  }
  const bindHost = (env.MEDIAGRID_BIND_HOST || '').trim() || '127.0.0.1';
  return {
    port: port('GRPC_PORT', raw),
    bindHost,
    advertiseHost: (env.MEDIAGRID_ADVERTISE_HOST || '').trim(),
    moduleId,
    orchestrator: orchestrator ? address('MEDIAGRID_ORCHESTRATOR_ADDRESS', orchestrator) : '',
    token: env.MEDIAGRID_TOKEN || '',
  };
}

module.exports = { EnvError, settings };
