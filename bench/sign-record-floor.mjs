/**
 * The floor for a signRecord request on this machine: a plain node:http
 * server that does only what no implementation can skip — read the body,
 * JSON.parse it, two libsecp256k1 verifications and two libsecp256k1
 * signatures over SHA-256 digests, and a JSON answer the size of ours — and
 * none of the checks. bench/sign-record.ts runs it under the same load as the
 * bundles, in the same run, as the native limit.
 *
 * Started like a bundle (bench/service.ts startServer): prints "serving on URL" on stderr; other arguments are ignored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const secp = createRequire(import.meta.url)('secp256k1/bindings');
const sha256 = (b) => createHash('sha256').update(b).digest();

let key;
do key = randomBytes(32);
while (!secp.privateKeyVerify(key));
const pub = secp.publicKeyCreate(key, true);
const cosig = secp.ecdsaSign(sha256(Buffer.from('co-signed payload')), key).signature;

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    let ok = true;
    for (let i = 0; i < 2; i++) ok = secp.ecdsaVerify(cosig, sha256(Buffer.from('co-signed payload')), pub) && ok;
    const out = [];
    for (let i = 0; i < 2; i++) out.push(Buffer.from(secp.ecdsaSign(sha256(Buffer.from(`${body.repository}${i}${Date.now()}`)), key).signature).toString('base64'));
    const answer = JSON.stringify({ ok, cid: 'b'.repeat(59), record: { ...body.record, signatures: body.cosignatures }, signature: out[0], receipt: { sig: out[1], heads: Object.keys(body.plcLogs ?? {}) } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => console.error(`serving on http://127.0.0.1:${server.address().port}`));
