/**
 * Our code against the committed golden vectors (test/vectors/*.json): the
 * payload builder and CIDs, signature entries, receipt, binding, policy, and
 * the record verifier with the exact code each tampered record must get.
 * Last, the generator still produces the committed files (a format change
 * shows up as a diff to review, never as a silent regeneration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBase64, encodeBase64 } from '../../src/crypto/encoding.ts';
import { verifySignature } from '../../src/crypto/verify.ts';
import { encodeCbor } from '../../src/data/cbor.ts';
import { CID, cidForValue } from '../../src/data/cid.ts';
import { jsonToIpld } from '../../src/data/json.ts';
import { parseRecordJson } from '../../src/data/record.ts';
import { isEncumberError } from '../../src/errors.ts';
import { buildPayload, type IpldRecord } from '../../src/policy/payload.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { verifyPublishedRecord, type Identity } from '../../src/verifier/record.ts';
import { generateVectors, vectorFileText } from './generate.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FILES = ['binding.json', 'cosigner-entry.json', 'enclave-entry.json', 'payload-cid.json', 'policy.json', 'receipt.json', 'signed-record.json'];

type Case = Record<string, any> & { comment: string; tags: string[] };

function load(name: string): Case[] {
  return JSON.parse(readFileSync(join(HERE, name), 'utf8')) as Case[];
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isEncumberError(e)) throw e;
    return e.code;
  }
}

const bytesOf = (json: unknown) => jsonToIpld(json) as Uint8Array;

test('the vector files: each an array of cases with a comment and tags', () => {
  assert.deepEqual(readdirSync(HERE).filter((f) => f.endsWith('.json')).sort(), FILES);
  for (const file of FILES) {
    const cases = load(file);
    assert.ok(Array.isArray(cases) && cases.length > 0, file);
    for (const c of cases) {
      assert.equal(typeof c.comment, 'string', file);
      assert.ok(Array.isArray(c.tags), `${file}: ${c.comment}`);
    }
  }
});

test('payload-cid.json: record + repository + collection → payload DAG-CBOR and CID, or the refusal code', () => {
  const cases = load('payload-cid.json');
  assert.ok(cases.some((c) => c.tags.includes('bytes')) && cases.some((c) => c.tags.includes('link')) && cases.some((c) => c.expectedError));
  for (const c of cases) {
    const build = () => buildPayload(parseRecordJson(c.record) as IpldRecord, c.repository, c.collection);
    if (c.expectedError) {
      assert.equal(codeOf(build), c.expectedError, c.comment);
      continue;
    }
    const p = build();
    assert.equal(encodeBase64(p.bytes), c.payloadCborBase64, c.comment);
    assert.equal(p.cid.toString(), c.cid, c.comment);
    assert.equal(cidForValue(jsonToIpld(c.record)).equals(p.cid), false, `${c.comment}: the payload is not the bare record`);
  }
});

for (const file of ['cosigner-entry.json', 'enclave-entry.json']) {
  test(`${file}: the entry's sig verifies with its key over the payload exactly when validSignature`, () => {
    const cases = load(file);
    assert.ok(cases.some((c) => c.validSignature) && cases.some((c) => !c.validSignature));
    for (const c of cases) {
      const entry = jsonToIpld(c.entry) as Record<string, any>;
      assert.equal(entry.$type, 'dev.encumber.signature', c.comment);
      const ok = verifySignature(entry.key, decodeBase64(c.payloadCborBase64), entry.sig);
      assert.equal(ok, c.validSignature, c.comment);
      if (file === 'enclave-entry.json') {
        assert.equal(entry.issuer, entry.key, c.comment);
        assert.ok(entry.binding instanceof CID && entry.binding.toString() === c.bindingCid, c.comment);
        assert.equal(entry.receipt.$type, 'dev.encumber.receipt', c.comment);
      }
    }
  });
}

test('receipt.json: sig over the DAG-CBOR of the receipt without sig, by the enclave key', () => {
  for (const c of load('receipt.json')) {
    const { sig, ...unsigned } = c.receipt;
    const bytes = encodeCbor(jsonToIpld(unsigned));
    assert.equal(encodeBase64(bytes), c.unsignedCborBase64, c.comment);
    const r = jsonToIpld(c.receipt) as Record<string, any>;
    assert.ok(r.cid instanceof CID && r.policy instanceof CID, `${c.comment}: CIDs are links`);
    assert.equal(verifySignature(c.enclaveKey, bytes, bytesOf(sig)), c.validSignature, c.comment);
  }
});

test('binding.json: DAG-CBOR and CID of the binding document', () => {
  for (const c of load('binding.json')) {
    const value = jsonToIpld(c.binding);
    assert.equal(encodeBase64(encodeCbor(value)), c.cborBase64, c.comment);
    assert.equal(cidForValue(value).toString(), c.cid, c.comment);
  }
});

test('policy.json: the policy CID, or the refusal code', () => {
  const cases = load('policy.json');
  assert.ok(cases.some((c) => c.expectedError));
  for (const c of cases) {
    if (c.expectedError) {
      assert.equal(codeOf(() => parsePolicy(c.policy)), c.expectedError, c.comment);
      continue;
    }
    const loaded = parsePolicy(c.policy);
    assert.equal(loaded.cid.toString(), c.cid, c.comment);
    assert.equal(encodeBase64(encodeCbor(jsonToIpld(c.policy))), c.cborBase64, c.comment);
  }
});

const records = load('signed-record.json');
for (const c of records) {
  test(`signed-record.json: ${c.comment} → ${c.expected.valid ? 'valid' : c.expected.error}`, () => {
    const opts = { ...(c.plcLogs ? { plcLogs: c.plcLogs } : {}), ...(c.location ? { location: c.location } : {}) };
    const verdict = verifyPublishedRecord(c.identity as Identity, c.record, opts);
    if (c.expected.valid) {
      assert.ok(verdict.ok, verdict.ok ? '' : `${verdict.error.code}: ${verdict.error.message}`);
      assert.equal(verdict.cid, c.expected.cid);
      assert.deepEqual([...verdict.cosigners].sort(), [...c.expected.cosigners].sort());
    } else {
      assert.equal(verdict.ok, false, 'the tampered record verified');
      if (!verdict.ok) assert.equal(verdict.error.code, c.expected.error, verdict.error.message);
    }
  });
}

test('the generator reproduces the committed vectors', async () => {
  const fresh = await generateVectors();
  assert.deepEqual(Object.keys(fresh).sort(), FILES);
  for (const [name, cases] of Object.entries(fresh)) {
    assert.equal(vectorFileText(cases), readFileSync(join(HERE, name), 'utf8'), `${name} differs from a fresh generation`);
  }
});
