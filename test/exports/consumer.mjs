// Another program using encumber as a library: plain JavaScript, run by plain
// Node (no TypeScript loader), importing only through package.json "exports".
// Reads a JSON job on stdin, prints what each public entry answered.
import { verifySignedRecord } from 'encumber/verify';
import { verifyAuditLog } from 'encumber/plc';
import { verifyNitroDocument, AWS_NITRO_ROOT_G1_DER } from 'encumber/attestation';
import { cidForValue, jsonToIpld } from 'encumber/data';
import { readFileSync } from 'node:fs';

const job = JSON.parse(readFileSync(0, 'utf8'));
const out = {};
for (const [name, record] of Object.entries(job.records)) {
  const report = await verifySignedRecord({ identity: job.identity, record, trustIdentity: true, pin: { repository: job.repository }, at: new Date(job.at) });
  out[name] = { valid: report.valid, code: report.error?.code ?? null, rows: report.record.map((r) => r.name) };
}
const plc = verifyAuditLog(job.plc.did, JSON.parse(readFileSync(job.plc.file, 'utf8')));
out.plc = plc.ok ? { ok: true, head: plc.state.head.cid } : { ok: false, code: plc.error.code };
const nitro = verifyNitroDocument(new Uint8Array(readFileSync(job.nitro.file)), { trustRoots: [AWS_NITRO_ROOT_G1_DER], at: new Date(job.nitro.at), allowDebug: true });
out.nitro = { ok: nitro.ok, code: nitro.ok ? null : nitro.error.code };
out.cid = cidForValue(jsonToIpld(job.data)).toString();
console.log(JSON.stringify(out));
