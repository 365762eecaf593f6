// Starts the triggerd release binary for a client suite: a free loopback port, a fresh temporary
// database and a known root token. `stop()` terminates it and removes the temporary directory.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const ROOT_TOKEN = 'glpat-nodeclientsuite-root-0123456789';

/** The binary under test: $TRIGGERD_BIN, else <repo>/target/release/triggerd. */
export function binaryPath() {
  return process.env.TRIGGERD_BIN || join(repoRoot, 'target', 'release', 'triggerd');
}

/** Spawns the server and resolves once it logged its bound address. */
export async function startServer({ timeoutMs = 30000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'triggerd-node-'));
  const env = {
    ...process.env,
    TRIGGERD_SERVER__LISTEN: '127.0.0.1:0',
    TRIGGERD_DATABASE__PATH: join(dir, 'triggerd.db'),
    TRIGGERD_BOOTSTRAP__ROOT_TOKEN: ROOT_TOKEN,
    TRIGGERD_LOG__LEVEL: 'info',
  };
  delete env.RUST_LOG; // it would override the log level, and the address line is logged at info
  const child = spawn(binaryPath(), [], {
    cwd: dir, // no config.toml here: embedded defaults plus the variables below
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // If this process ends without calling stop() (an uncaught error, process.exit), the server goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let log = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`triggerd did not log its address within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = log.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${binaryPath()}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`triggerd exited early (code ${code}, signal ${signal}):\n${log}`));
    });
  });
  // Keep draining stderr so the server never blocks on a full pipe.
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });

  async function stop() {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  return { url, stop, log: () => log };
}
