'use strict';
// Real media with ffmpeg (contract §4.1, §4.4): a target relays the MPEG-TS datagrams it
// receives into ffmpeg (counting the bytes on the wire), a source's ffmpeg writes MPEG-TS that
// is sent as 1316-byte datagrams (counting them too); ffmpeg's -progress gives the frames.
const { spawn } = require('node:child_process');
const dgram = require('node:dgram');

const FFMPEG = process.env.MEDIAGRID_FFMPEG || 'ffmpeg';
const DATAGRAM = 1316; // 7 MPEG-TS packets
const WINDOW_MS = 2000;

// Frames and bytes over the last seconds (P-22, P-24).
class Meter {
  constructor() { this.frames = 0; this.bytes = 0; this.samples = []; }

  sample(now = Date.now()) {
    this.samples.push([now, this.frames, this.bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > WINDOW_MS) this.samples.shift();
  }

  rate() {
    this.sample();
    const [t0, f0, b0] = this.samples[0];
    const [t1, f1, b1] = this.samples[this.samples.length - 1];
    const seconds = (t1 - t0) / 1000;
    if (seconds <= 0) return { fps: 0, bitrate: 0 };
    return { fps: (f1 - f0) / seconds, bitrate: Math.round(((b1 - b0) * 8) / seconds) };
  }

  // Media moving (P-22): new frames and new bytes within the last second.
  moving(now = Date.now()) {
    this.sample(now);
    const recent = this.samples.filter(([t]) => now - t <= 1000 + 300);
    if (recent.length < 2) return false;
    const [, f0, b0] = recent[0];
    const [, f1, b1] = recent[recent.length - 1];
    return f1 > f0 && b1 > b0;
  }
}

function ffmpeg(args, meter, onExit) {
  const child = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-progress', 'pipe:3',
    '-stats_period', '0.5', ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-2000); });
  child.stdio[3].on('data', (chunk) => {
    for (const match of String(chunk).matchAll(/^frame=(\d+)/gm)) {
      meter.frames = Math.max(meter.frames, meter.base + Number(match[1]));
    }
  });
  child.on('error', (err) => { stderr += String(err); });
  child.on('exit', (code, signal) => onExit && onExit(code, signal, stderr));
  child.stdin.on('error', () => {});
  return child;
}

// A target's listener: bound at ConnectEntities (on the bind host only, S-10), fed to ffmpeg
// while a flow runs. ffmpeg restarts when it ends (a stream may start again at any point).
class Receiver {
  constructor(bindHost) {
    this.meter = new Meter();
    this.meter.base = 0;
    this.socket = dgram.createSocket(bindHost.includes(':') ? 'udp6' : 'udp4');
    this.bindHost = bindHost;
    this.child = null;
    this.running = false;
  }

  bind() {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, this.bindHost, () => resolve(this.socket.address().port));
      this.socket.on('message', (data) => {
        if (!this.running) return;
        this.meter.bytes += data.length;
        if (this.child && this.child.stdin.writable) this.child.stdin.write(data);
      });
    });
  }

  start() {
    this.running = true;
    const run = () => {
      if (!this.running) return;
      this.meter.base = this.meter.frames;
      this.child = ffmpeg(['-f', 'mpegts', '-analyzeduration', '500000', '-i', 'pipe:0',
        '-map', '0', '-f', 'null', '-'], this.meter, () => setTimeout(run, 200));
    };
    run();
  }

  stop() {
    this.running = false;
    if (this.child) { this.child.stdin.end(); this.child.kill('SIGKILL'); this.child = null; }
  }

  close() { this.stop(); try { this.socket.close(); } catch { /* closed already */ } }
}

// A source's sender: ffmpeg encodes the test pattern to MPEG-TS; each chunk goes out as
// datagrams to `url` (or, on a LOCAL link, is only counted as the bytes passed to the target).
class Sender {
  constructor(config, url) {
    this.meter = new Meter();
    this.meter.base = 0;
    this.config = config;
    this.url = url;
    this.socket = null;
    this.child = null;
    this.running = false;
    this.pending = Buffer.alloc(0);
  }

  start() {
    this.running = true;
    let target = null;
    if (this.url) {
      const parsed = new URL(this.url);
      const host = parsed.hostname.replace(/^\[|\]$/g, '');
      target = { host, port: Number(parsed.port) };
      this.socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    }
    const rate = this.config.rate;
    const run = () => {
      if (!this.running) return;
      this.meter.base = this.meter.frames;
      this.child = ffmpeg(['-nostdin', '-re', '-f', 'lavfi', '-i', `testsrc=size=${this.config.size}:rate=${rate}`,
        '-c:v', 'mpeg2video', '-g', String(rate), '-b:v', '600k', '-f', 'mpegts',
        '-flush_packets', '1', 'pipe:1'], this.meter, () => setTimeout(run, 500));
      this.child.stdout.on('data', (chunk) => {
        if (!this.running) return; // stopped: what ffmpeg still had buffered goes nowhere
        if (!target) { this.meter.bytes += chunk.length; return; }
        this.pending = Buffer.concat([this.pending, chunk]);
        while (this.pending.length >= DATAGRAM) {
          const datagram = this.pending.subarray(0, DATAGRAM);
          this.pending = this.pending.subarray(DATAGRAM);
          this.meter.bytes += datagram.length;
          if (this.socket) this.socket.send(datagram, target.port, target.host, () => {});
        }
      });
    };
    run();
  }

  stop() {
    this.running = false;
    if (this.child) { this.child.kill('SIGKILL'); this.child = null; }
    const { socket } = this;
    this.socket = null;
    if (socket) { try { socket.close(); } catch { /* closed */ } }
  }
}

module.exports = { Meter, Receiver, Sender };
