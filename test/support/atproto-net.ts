/**
 * A small atproto network on loopback for the fast tier: a PLC directory
 * (`GET /:did/log/audit`, `GET /:did`) and a PDS (`com.atproto.sync.getRecord`,
 * `com.atproto.identity.resolveHandle`) in two node:http servers on
 * 127.0.0.1, serving real did:plc logs (made with @did-plc/lib through the
 * member tools) and real repositories (made and signed by the reference
 * implementation, @atproto/repo). The end-to-end tier runs the reference PDS
 * and directory themselves (test/support/pds.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secp256k1Keypair } from '@atproto/crypto';
import { concatBytesAsync, getRecords, MemoryBlockstore, Repo, WriteOpAction } from '@atproto/repo';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { jsonToIpld } from '../../src/data/json.ts';
import { memberKeyFromPrivateKey } from '../../src/member/keys.ts';
import { auditEntry, createMemberDid } from '../../src/member/plc-ops.ts';
import type { PlcAuditEntry } from '../../src/plc/types.ts';
import type { Member } from './world.ts';

export interface NetRepo {
  did: string;
  handle: string;
  log: PlcAuditEntry[];
  /** The #atproto key (did:key) that signs the repository's commits. */
  signingKey: string;
  keypair: Secp256k1Keypair;
  storage: MemoryBlockstore;
  repo: Repo;
}

export interface Net {
  plcUrl: string;
  pdsUrl: string;
  /** Every request each server got, as `METHOD path?query`. */
  requests: { plc: string[]; pds: string[] };
  /**
   * A new did:plc repository on this PDS (its log in the directory), with the records given. `commitKey`:
   * sign its commits with another key than the #atproto key its DID names (a forged repository).
   */
  createRepo(handle: string, records?: NetRecord[], opts?: { commitKey?: 'other' }): Promise<NetRepo>;
  /**
   * A did:web repository on this PDS: `did:web:127.0.0.1%3A<port>`, its DID document served by the directory's
   * server at /.well-known/did.json (one per network).
   */
  createWebRepo(handle: string, records?: NetRecord[]): Promise<NetRepo>;
  /** Create or replace records in a repository (a new signed commit). */
  write(repo: NetRepo, records: NetRecord[]): Promise<void>;
  /** Publish a member's log (world.ts members) in the directory. */
  addLog(did: string, log: unknown): void;
  /** What the PDS's resolveHandle answers for `handle` (a resolver can name any DID). */
  setHandle(handle: string, did: string): void;
  close(): Promise<void>;
}

export interface NetRecord {
  collection: string;
  rkey: string;
  record: Record<string, unknown>;
}

export async function startNet(): Promise<Net> {
  const logs = new Map<string, unknown>();
  const repos = new Map<string, NetRepo>();
  const handles = new Map<string, string>();
  const requests = { plc: [] as string[], pds: [] as string[] };

  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  let webDoc: unknown;
  const plc = createServer((req, res) => {
    requests.plc.push(`${req.method} ${req.url}`);
    if (req.url === '/.well-known/did.json') return webDoc ? json(res, 200, webDoc) : json(res, 404, { message: 'no did:web here' });
    const m = /^\/(did%3Aplc%3A[a-z2-7]{24}|did:plc:[a-z2-7]{24})(\/log\/audit)?$/.exec(req.url ?? '');
    const did = m ? decodeURIComponent(m[1]!) : undefined;
    const log = did ? logs.get(did) : undefined;
    if (!log) return json(res, 404, { message: 'DID not registered' });
    json(res, 200, m![2] ? log : { id: did });
  });
  const pds = createServer((req, res) => {
    requests.pds.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/xrpc/com.atproto.identity.resolveHandle') {
      const did = handles.get(url.searchParams.get('handle') ?? '');
      return did ? json(res, 200, { did }) : json(res, 400, { error: 'InvalidRequest', message: 'Unable to resolve handle' });
    }
    if (url.pathname === '/xrpc/com.atproto.sync.getLatestCommit') {
      const r = repos.get(url.searchParams.get('did') ?? '');
      return r ? json(res, 200, { cid: r.repo.cid.toString(), rev: r.repo.commit.rev }) : json(res, 400, { error: 'RepoNotFound', message: 'Could not find repo' });
    }
    if (url.pathname === '/xrpc/com.atproto.sync.getRecord') {
      const r = repos.get(url.searchParams.get('did') ?? '');
      if (!r) return json(res, 400, { error: 'RepoNotFound', message: 'Could not find repo' });
      void concatBytesAsync(getRecords(r.storage, r.repo.cid, [{ collection: url.searchParams.get('collection') ?? '', rkey: url.searchParams.get('rkey') ?? '' }])).then((car) => {
        res.writeHead(200, { 'content-type': 'application/vnd.ipld.car', 'access-control-allow-origin': '*', 'content-length': car.length });
        res.end(car);
      });
      return;
    }
    json(res, 404, { error: 'MethodNotImplemented', message: url.pathname });
  });
  const listen = (s: Server) => new Promise<string>((ok) => s.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
  const plcUrl = await listen(plc);
  const pdsUrl = await listen(pds);

  const write = async (r: NetRepo, records: NetRecord[]) => {
    const ops = await Promise.all(
      records.map(async (x) => ({
        action: (await r.repo.getRecord(x.collection, x.rkey)) ? WriteOpAction.Update : WriteOpAction.Create,
        collection: x.collection,
        rkey: x.rkey,
        record: jsonToIpld(x.record),
      })),
    );
    r.repo = await r.repo.applyWrites(ops as never, r.keypair);
  };

  return {
    plcUrl,
    pdsUrl,
    requests,
    async createRepo(handle, records = [], opts = {}) {
      const priv = secp256k1.utils.randomSecretKey();
      const keypair = await Secp256k1Keypair.import(opts.commitKey === 'other' ? secp256k1.utils.randomSecretKey() : priv.slice());
      const signing = memberKeyFromPrivateKey(priv.slice());
      const rotation = memberKeyFromPrivateKey(secp256k1.utils.randomSecretKey());
      const { did, op } = await createMemberDid({ rotationKey: rotation, signingKey: signing, handle, pds: pdsUrl });
      const log = [auditEntry(did, op, new Date('2026-01-01T00:00:00.000Z'))];
      logs.set(did, log);
      handles.set(handle, did);
      const storage = new MemoryBlockstore();
      const repo = await Repo.create(storage, did, keypair, []);
      const r: NetRepo = { did, handle, log, signingKey: signing.did, keypair, storage, repo };
      repos.set(did, r);
      if (records.length > 0) await write(r, records);
      return r;
    },
    async createWebRepo(handle, records = []) {
      const keypair = await Secp256k1Keypair.create({ exportable: false });
      const did = `did:web:127.0.0.1%3A${new URL(plcUrl).port}`;
      webDoc = {
        '@context': ['https://www.w3.org/ns/did/v1'],
        id: did,
        alsoKnownAs: [`at://${handle}`],
        verificationMethod: [{ id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: keypair.did().slice('did:key:'.length) }],
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: pdsUrl }],
      };
      handles.set(handle, did);
      const storage = new MemoryBlockstore();
      const r: NetRepo = { did, handle, log: [], signingKey: keypair.did(), keypair, storage, repo: await Repo.create(storage, did, keypair, []) };
      repos.set(did, r);
      if (records.length > 0) await write(r, records);
      return r;
    },
    write,
    addLog: (did, log) => void logs.set(did, log),
    setHandle: (handle, did) => void handles.set(handle, did),
    close: async () => {
      await Promise.all([plc, pds].map((s) => new Promise<void>((ok) => s.close(() => ok()))));
    },
  };
}

/** Publish every member's log (world.ts) in the directory. */
export function addMembers(net: Net, members: Member[]): void {
  for (const m of members) net.addLog(m.did, m.log);
}
