/** What a reader pastes to point at a record: at:// with a DID or a handle, or a bsky.app post URL. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRecordAddress } from '../../src/data/syntax/index.ts';
import { throwsCode } from './assert-code.ts';

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

test('at:// with a DID or a handle', () => {
  assert.deepEqual(parseRecordAddress(`at://${DID}/app.bsky.feed.post/3l5abc`), { authority: DID, isDid: true, collection: 'app.bsky.feed.post', rkey: '3l5abc' });
  assert.deepEqual(parseRecordAddress('  at://org.example.com/dev.encumber.note/self '), { authority: 'org.example.com', isDid: false, collection: 'dev.encumber.note', rkey: 'self' });
  // A did:web with a port keeps its %3A: it is part of the DID, not an escape to undo.
  assert.deepEqual(parseRecordAddress('at://did:web:127.0.0.1%3A8080/app.bsky.feed.post/x').authority, 'did:web:127.0.0.1%3A8080');
});

test('a bsky.app post URL is an app.bsky.feed.post in that profile', () => {
  assert.deepEqual(parseRecordAddress(`https://bsky.app/profile/${DID}/post/3l5abc`), { authority: DID, isDid: true, collection: 'app.bsky.feed.post', rkey: '3l5abc' });
  assert.deepEqual(parseRecordAddress('https://bsky.app/profile/org.example.com/post/3l5abc/?ref=x'), { authority: 'org.example.com', isDid: false, collection: 'app.bsky.feed.post', rkey: '3l5abc' });
});

test('anything else is InvalidSyntax', () => {
  for (const bad of [
    'http://bsky.app/profile/org.example.com/post/3l5abc',
    'https://bsky.app.evil.example/profile/org.example.com/post/3l5abc',
    'https://bsky.app/profile/org.example.com/feed/3l5abc',
    `at://${DID}/app.bsky.feed.post`,
    `at://${DID}/not-an-nsid/x`,
    `at://${DID}/app.bsky.feed.post/bad key`,
    'at://not a host/app.bsky.feed.post/x',
    'at://%E0%A4%A/app.bsky.feed.post/x',
    `at://${encodeURIComponent(DID)}/app.bsky.feed.post/x`,
    `at://${DID}/app.bsky.feed.post/%E0%A4%A`,
    '',
  ]) throwsCode(() => parseRecordAddress(bad), 'InvalidSyntax', bad);
});
