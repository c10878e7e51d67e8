/**
 * did:plc audit-log verification throughput: our verifyAuditLog against
 * @did-plc/lib 0.0.4 validateOperationLog, in the same process and run.
 *
 *   node --import tsx bench/plc-verify.ts [--ms=1000] [--rounds=3] [--logs=8] [--ops=20] [--curves=k256,p256,mixed]
 *
 * Input: `logs` distinct generated logs (test/plc-gen, fixed seeds), each
 * `ops` entries long, a straight chain with no forks or tombstones, so both
 * sides verify exactly the same operations. Each call verifies the next log
 * in turn (logs/s = calls/s).
 *   - @did-plc/lib validateOperationLog — fed the list of operations (async;
 *     DID, prev links, signatures; noble-secp256k1 1.x for k256);
 *   - ours: verifyAuditLog — fed the audit log exactly as the directory serves
 *     it, and checks more: strict schemas, cids, canonical sig encoding, low-S,
 *     createdAt order, nullified flags; with the libsecp256k1 backend installed
 *     as the Node edges (enclave boot, CLI) install it, and (k256) once without
 *     a backend, as a library caller gets it (OpenSSL);
 *   - OpenSSL floor — only the node:crypto ECDSA verifications the log needs
 *     (the same key tries, in the same order, KeyObjects prepared): what any
 *     verifier built on node:crypto must at least spend;
 *   - libsecp256k1 floor (k256 logs) — the same verifications in the native
 *     libsecp256k1 addon (`secp256k1/bindings`), SHA-256 by node:crypto, keys
 *     as compressed bytes: the fastest secp256k1 there is on this machine.
 *     ours ÷ floor shows how much our non-signature work costs.
 * Tables: k256-only logs (the target: ours ≥ 12× the lib), then p256 and mixed
 * logs for information. Each row is measured `rounds` times, interleaved; the
 * median is shown; every row has a ratio against the lib and both floors.
 */
import { createRequire } from 'node:module';
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import * as plc from '@did-plc/lib';
import * as dagCbor from '@ipld/dag-cbor';
import { tableVs, measureInterleaved, type BenchCase } from './harness.ts';
import { verifyAuditLog } from '../src/plc/verify.ts';
import { installK256Backend } from '../src/crypto/k256-backend.ts';
import { libsecp256k1Backend } from '../src/crypto/k256-libsecp256k1.ts';
import { curveByName } from '../src/crypto/curves.ts';
import { parseDidKey } from '../src/crypto/did-key.ts';
import { generateLog, type CurveChoice, type GeneratedLog } from '../test/plc-gen/generate.ts';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}
const ms = arg('ms', 1000);
const rounds = arg('rounds', 3);
const logCount = arg('logs', 8);
const ops = arg('ops', 20);
const curves = (process.argv.find((a) => a.startsWith('--curves='))?.slice(9) ?? 'k256,p256,mixed').split(',') as CurveChoice[];
const TARGET = 12;
const LIB = '@did-plc/lib 0.0.4 validateOperationLog (op list)';
const OURS = 'ours: verifyAuditLog (audit log)';
const OURS_OPENSSL = 'ours: verifyAuditLog, no backend installed (library callers: OpenSSL)';
const OPENSSL_FLOOR = 'OpenSSL floor: node:crypto verify only, same key tries';
const LIBSECP_FLOOR = 'libsecp256k1 floor: native verify only, same key tries';
/** The native addon only: `secp256k1/bindings` fails rather than falling back to JS. */
const libsecp = createRequire(import.meta.url)('secp256k1/bindings') as {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
};

type Case = BenchCase;

async function makeLogs(curve: CurveChoice): Promise<GeneratedLog[]> {
  const out: GeneratedLog[] = [];
  for (let i = 0; i < logCount; i++) {
    out.push(await generateLog({ ops, curve, seed: `bench-${curve}-${i}`, forkRate: 0, undoneTombstoneRate: 0, tombstoneRate: 0, legacyRate: 0 }));
  }
  return out;
}

/** Both implementations must accept every log; a bench of a failing check is meaningless. */
async function mustVerify(logs: GeneratedLog[]): Promise<void> {
  for (const g of logs) {
    if (g.log.length !== ops) throw new Error(`expected ${ops} entries, got ${g.log.length}`);
    installK256Backend(libsecp256k1Backend);
    const ours = verifyAuditLog(g.did, g.log);
    if (!ours.ok) throw new Error(`ours rejects a benchmark log: ${ours.error.message}`);
    await plc.validateOperationLog(g.did, g.log.map((e) => e.operation) as unknown as plc.CompatibleOpOrTombstone[]);
  }
}

const measure = (cases: Case[]) => measureInterleaved(cases, { rounds, ms });

interface Try {
  key: KeyObject;
  /** Compressed public key, for libsecp256k1; undefined for p256. */
  compressed: Uint8Array | undefined;
  msg: Uint8Array;
  sig: Uint8Array;
}

/** The ECDSA verifications a verifier makes: for each op, its allowed keys in order until the signer. */
function signatureWork(g: GeneratedLog): Try[] {
  const keyObject = new Map<string, KeyObject>();
  const compressed = (did: string) => {
    const pk = parseDidKey(did);
    return pk.curve === 'k256' ? pk.compressed : undefined;
  };
  const native = (did: string) => {
    let k = keyObject.get(did);
    if (!k) {
      const pk = parseDidKey(did);
      const prefix = curveByName(pk.curve).spkiCompressedPrefix;
      k = createPublicKey({ key: Buffer.concat([prefix, pk.compressed]), format: 'der', type: 'spki' });
      keyObject.set(did, k);
    }
    return k;
  };
  const tries: Try[] = [];
  g.log.forEach((e, i) => {
    const { sig, ...unsigned } = e.operation;
    const msg = dagCbor.encode(unsigned);
    const m = g.meta[i]!;
    const allowed = m.prevIndex === null ? rotationKeys(g, i) : rotationKeys(g, m.prevIndex);
    for (const did of allowed.slice(0, m.signerIndex + 1)) tries.push({ key: native(did), compressed: compressed(did), msg, sig: Buffer.from(sig, 'base64url') });
  });
  return tries;
}

function rotationKeys(g: GeneratedLog, i: number): string[] {
  const op = g.log[i]!.operation;
  return op.type === 'plc_operation' ? op.rotationKeys : op.type === 'create' ? [op.recoveryKey, op.signingKey] : [];
}

function cases(logs: GeneratedLog[], withLibsecp: boolean): Case[] {
  const opLists = logs.map((g) => g.log.map((e) => e.operation) as unknown as plc.CompatibleOpOrTombstone[]);
  const work = logs.map(signatureWork);
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let e = 0;
  return [
    {
      row: LIB,
      run: () => {
        const i = a++ % logs.length;
        return plc.validateOperationLog(logs[i]!.did, opLists[i]!);
      },
      async: true,
    },
    {
      row: OURS,
      run: () => {
        // The backend is a module variable: each row sets the one it measures (one assignment per log).
        installK256Backend(libsecp256k1Backend);
        const g = logs[b++ % logs.length]!;
        const v = verifyAuditLog(g.did, g.log);
        if (!v.ok) throw new Error(v.error.message);
        return v;
      },
    },
    ...(withLibsecp
      ? [
          {
            row: OURS_OPENSSL,
            run: () => {
              installK256Backend(undefined);
              const g = logs[e++ % logs.length]!;
              const v = verifyAuditLog(g.did, g.log);
              if (!v.ok) throw new Error(v.error.message);
              return v;
            },
          },
        ]
      : []),
    {
      row: OPENSSL_FLOOR,
      run: () => {
        let verified = 0;
        for (const t of work[c++ % logs.length]!) if (nodeVerify('sha256', t.msg, { key: t.key, dsaEncoding: 'ieee-p1363' }, t.sig)) verified++;
        return verified;
      },
    },
    ...(withLibsecp
      ? [
          {
            row: LIBSECP_FLOOR,
            run: () => {
              let verified = 0;
              for (const t of work[d++ % logs.length]!) {
                if (libsecp.ecdsaVerify(t.sig, createHash('sha256').update(t.msg).digest(), t.compressed!)) verified++;
              }
              return verified;
            },
          },
        ]
      : []),
  ];
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${process.arch}; ${logCount} distinct logs × ${ops} ops each; ` +
      `${rounds} interleaved rounds × ${ms} ms per row, median shown; ops/s = logs verified per second\n`,
  );
  for (const curve of curves) {
    const logs = await makeLogs(curve);
    await mustVerify(logs);
    const withLibsecp = curve === 'k256';
    const cs = cases(logs, withLibsecp);
    if (withLibsecp) {
      // The libsecp256k1 floor must accept exactly the signatures the OpenSSL floor accepts.
      const [o, l] = [cs.find((x) => x.row === OPENSSL_FLOOR)!, cs.find((x) => x.row === LIBSECP_FLOOR)!];
      for (let i = 0; i < logs.length; i++) if (o.run() !== l.run()) throw new Error('libsecp256k1 and OpenSSL floors disagree');
    }
    const rows = await measure(cs);
    const tries = logs.flatMap((g) => g.meta.map((m) => m.signerIndex + 1));
    const perOp = tries.reduce((x, y) => x + y, 0) / tries.length;
    const perLog = logs.reduce((n, g) => n + signatureWork(g).length, 0) / logs.length;
    console.log(
      `### ${curve} rotation keys (each op's signer found after ${perOp.toFixed(2)} key tries on average, same for both; ` +
        `${perLog.toFixed(1)} signature verifications per log)\n`,
    );
    console.log(tableVs(rows, withLibsecp ? [LIB, LIBSECP_FLOOR, OPENSSL_FLOOR] : [LIB, OPENSSL_FLOOR], 'logs/s'));
    const by = (n: string) => rows.find((r) => r.name === n)!.opsPerSec;
    const ratio = by(OURS) / by(LIB);
    console.log(
      `\nours / lib = ${ratio.toFixed(2)}×${curve === 'k256' ? ` (target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'NOT met'})` : ''}; ` +
        `ours runs at ${(by(OURS) / by(OPENSSL_FLOOR)).toFixed(2)}× the OpenSSL floor` +
        (withLibsecp ? ` and ${(by(OURS) / by(LIBSECP_FLOOR)).toFixed(2)}× the libsecp256k1 floor` : ''),
    );
    console.log();
  }
}

await main();
