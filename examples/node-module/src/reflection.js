'use strict';
// gRPC server reflection (v1alpha and v1) answering with the real FileDescriptorProtos that
// proto-loader keeps, dependencies included, so `grpcurl list` and `grpcurl describe` work
// (rule H-4). @grpc/reflection renames files per package and drops their dependencies, which
// clients that resolve imports (grpcurl, Python's descriptor pool) cannot use.
const grpc = require('@grpc/grpc-js');
const { FileDescriptorProto } = require('protobufjs/ext/descriptor');

// proto-loader's descriptors hold one file per package, named after it, without the
// `dependency` list; rebuild that list from the types each file refers to, so a client can
// resolve google.protobuf.Timestamp and the rest.
function index(definition) {
  const files = new Map(); // file name -> FileDescriptorProto (decoded)
  for (const entry of Object.values(definition)) {
    const protos = entry.fileDescriptorProtos
      || Object.values(entry).find((m) => m && m.requestType)?.requestType.fileDescriptorProtos;
    for (const raw of protos || []) {
      const file = FileDescriptorProto.decode(raw);
      files.set(file.name, file);
    }
  }
  const owner = new Map(); // '.package.Symbol' -> file name
  const walk = (prefix, messages, fileName) => {
    for (const m of messages || []) {
      owner.set(`${prefix}.${m.name}`, fileName);
      walk(`${prefix}.${m.name}`, m.nestedType, fileName);
      for (const e of m.enumType || []) owner.set(`${prefix}.${m.name}.${e.name}`, fileName);
    }
  };
  for (const file of files.values()) {
    const prefix = file.package ? `.${file.package}` : '';
    walk(prefix, file.messageType, file.name);
    for (const e of file.enumType || []) owner.set(`${prefix}.${e.name}`, file.name);
    for (const s of file.service || []) owner.set(`${prefix}.${s.name}`, file.name);
  }
  const qualified = (name) => (name.startsWith('.') ? name : `.${name}`);
  const refs = (messages, out) => {
    for (const m of messages || []) {
      for (const f of m.field || []) {
        if (f.typeName && owner.has(qualified(f.typeName))) f.typeName = qualified(f.typeName);
        if (f.typeName) out.add(f.typeName);
      }
      refs(m.nestedType, out);
    }
    return out;
  };
  const encoded = new Map();
  const deps = new Map();
  for (const file of files.values()) {
    const used = refs(file.messageType, new Set());
    for (const s of file.service || []) {
      for (const method of s.method || []) {
        method.inputType = qualified(method.inputType);
        method.outputType = qualified(method.outputType);
        used.add(method.inputType).add(method.outputType);
      }
    }
    const needed = [...new Set([...used].map((n) => owner.get(n)).filter(
      (name) => name && name !== file.name))];
    file.dependency = needed;
    deps.set(file.name, needed);
    encoded.set(file.name, FileDescriptorProto.encode(file).finish());
  }
  const closure = (name, seen = new Set()) => {
    if (seen.has(name)) return [];
    seen.add(name);
    return [encoded.get(name), ...deps.get(name).flatMap((d) => closure(d, seen))];
  };
  const symbolFile = (symbol) => {
    for (let name = `.${symbol}`; name; name = name.slice(0, name.lastIndexOf('.'))) {
      if (owner.has(name)) return owner.get(name);
    }
    return undefined;
  };
  return { encoded, closure, symbolFile };
}

function reflection(definition, services, reflectionPackage) {
  const { encoded, closure, symbolFile } = index(definition);
  const answer = (request) => {
    const base = { valid_host: request.host, original_request: request };
    if (request.message_request === 'list_services') {
      return { ...base, list_services_response: { service: services.map((name) => ({ name })) } };
    }
    if (request.message_request === 'file_by_filename') {
      if (encoded.has(request.file_by_filename)) {
        return { ...base, file_descriptor_response: {
          file_descriptor_proto: closure(request.file_by_filename) } };
      }
      return { ...base, error_response: { error_code: grpc.status.NOT_FOUND,
        error_message: `no file ${request.file_by_filename}` } };
    }
    if (request.message_request === 'file_containing_symbol') {
      const file = symbolFile(request.file_containing_symbol);
      if (file) return { ...base, file_descriptor_response: { file_descriptor_proto: closure(file) } };
      return { ...base, error_response: { error_code: grpc.status.NOT_FOUND,
        error_message: `no symbol ${request.file_containing_symbol}` } };
    }
    return { ...base, error_response: { error_code: grpc.status.UNIMPLEMENTED,
      error_message: `${request.message_request} is not supported` } };
  };
  return {
    service: reflectionPackage.ServerReflection.service,
    implementation: {
      ServerReflectionInfo(call) {
        call.on('data', (request) => call.write(answer(request)));
        call.on('end', () => call.end());
        call.on('error', () => {});
      },
    },
  };
}

module.exports = { reflection };
