'use strict';
// Errors that carry the exact gRPC status code the contract names (docs/contract.md §8).
const { status } = require('@grpc/grpc-js');

class ModuleError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const invalid = (m) => new ModuleError(status.INVALID_ARGUMENT, m);
const notFound = (m) => new ModuleError(status.NOT_FOUND, m);
const precondition = (m) => new ModuleError(status.FAILED_PRECONDITION, m);
const exists = (m) => new ModuleError(status.ALREADY_EXISTS, m);
const unavailable = (m) => new ModuleError(status.UNAVAILABLE, m);

// Limits of rule N-10, counted in Unicode code points.
const LIMITS = { id: 128, name: 256, keys: 64, key: 128, value: 4096 };
const ID = /^[a-z0-9][a-z0-9_-]{0,127}$/;
const length = (text) => [...text].length;

function checkId(field, value, required = true) {
  if (!value) {
    if (required) throw invalid(`${field} is required: pass an id like 'cam-1'`);
    return value;
  }
  if (!ID.test(value)) {
    throw invalid(`${field} ${JSON.stringify(value.slice(0, 40))} is not a valid id: use ` +
      `lowercase letters, digits, '-' and '_', at most ${LIMITS.id}, starting with a letter or digit`);
  }
  return value;
}

function checkName(field, value) {
  if (length(value) > LIMITS.name) {
    throw invalid(`${field} is ${length(value)} characters long: use at most ${LIMITS.name}`);
  }
}

function checkConfig(field, config) {
  const keys = Object.keys(config);
  if (keys.length > LIMITS.keys) {
    throw invalid(`${field} has ${keys.length} keys: send at most ${LIMITS.keys}`);
  }
  for (const key of keys) {
    if (!key) throw invalid(`${field} has an empty key: remove it`);
    if (length(key) > LIMITS.key) {
      throw invalid(`${field} key ${JSON.stringify(key.slice(0, 40))}... is ${length(key)} ` +
        `characters long: use at most ${LIMITS.key}`);
    }
    if (length(config[key]) > LIMITS.value) {
      throw invalid(`${field}[${JSON.stringify(key)}] is ${length(config[key])} characters ` +
        `long: use at most ${LIMITS.value}`);
    }
  }
}

// Contract §4.5: codec names by media type, and those MPEG-TS carries.
const MPEGTS_CODECS = new Set(['h264', 'hevc', 'mpeg1video', 'mpeg2video', 'mpeg4', 'aac', 'mp2',
  'mp3', 'ac3', 'eac3', 'opus']);
const TRANSPORTS = { 'mpegts-udp': 'udp', 'mpegts-tcp': 'tcp', srt: 'srt' };

module.exports = {
  ModuleError, invalid, notFound, precondition, exists, unavailable, LIMITS,
  checkId, checkName, checkConfig, length, MPEGTS_CODECS, TRANSPORTS,
};
