// Starts the triggerd release binary for the browser tests: a free loopback port, a fresh
// temporary database and a known root token; and a second local server on another port that
// plays the attacker's site (an auto-submitting cross-origin form). Everything stays on 127.0.0.1.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const ROOT_TOKEN = 'glpat-uisuite-root-token-0123456789';

/** The binary under test: $TRIGGERD_BIN, else <repo>/target/release/triggerd. */
export function binaryPath() {
  return process.env.TRIGGERD_BIN || join(repoRoot, 'target', 'release', 'triggerd');
}

/** Spawns the server and resolves once it logged its bound address. */
export async function startServer({ timeoutMs = 30000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'triggerd-ui-'));
  const env = {
    ...process.env,
    TRIGGERD_SERVER__LISTEN: '127.0.0.1:0',
    TRIGGERD_DATABASE__PATH: join(dir, 'triggerd.db'),
    TRIGGERD_BOOTSTRAP__ROOT_TOKEN: ROOT_TOKEN,
    TRIGGERD_LOG__LEVEL: 'info',
  };
  delete env.RUST_LOG;
  const child = spawn(binaryPath(), [], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let log = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
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

/**
 * The attacker's site: `GET /attack?target=<url>&description=<text>` answers a page whose form
 * posts to `target` as soon as it loads. Resolves to `{ url, stop }`.
 */
export async function startAttacker() {
  const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const server = createServer((req, res) => {
    const q = new URL(req.url, 'http://attacker').searchParams;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>win a prize</title>
<form id="f" method="post" action="${escape(q.get('target'))}">
<input name="description" value="${escape(q.get('description') || 'forged')}">
<input name="nonce" value="attacker-nonce">
</form><script>document.getElementById('f').submit();</script>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => server.close(r)) };
}
