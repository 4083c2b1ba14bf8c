import { generateKeyPairSync, sign } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, chainEvents, type AuditEvent } from '@core/audit/chain';
import {
  CHECKPOINT_EVERY,
  DigestChainError,
  digestKey,
  encodeDigestFile,
  parseDigestFile,
  readSealed,
  signedBytes,
  type StoredDigest,
} from '@core/audit/digest';
import { writeDigest } from '@core/audit/digest-writer';
import type { AuditTrailStore, ChainHead, DigestArchive, DigestSigner } from '@core/audit/ports';
import { publicKeyFingerprint, publicKeyVerifier } from '@core/audit/signature';
import { verifyAuditTrail } from '@core/audit/verify';
import { localDigestArchive, localDigestKeys } from '@local/audit-digests';

/** An in-memory trail: chains of events and the heads their records name. */
function aTrail() {
  const chains = new Map<string, { head: ChainHead; events: AuditEvent[] }>();
  const append = (id: string, n = 1) => {
    const current = chains.get(id);
    const events = chainEvents(
      id,
      { count: current?.head.count ?? 0, lastHash: current?.head.hash ?? GENESIS_HASH },
      Array.from({ length: n }, () => ({
        at: '2026-11-01T00:00:00.000Z',
        actor: 'test',
        action: 'ticket.commented' as const,
      })),
    );
    const all = [...(current?.events ?? []), ...events];
    chains.set(id, { head: { kind: 'finding', id, count: all.length, hash: all[all.length - 1]!.hash }, events: all });
  };
  const store: AuditTrailStore = {
    heads: async () => ({ chains: [...chains.values()].map((c) => c.head), orphans: [] }),
    records: async () => ({ chains: [...chains.values()].map((c) => ({ ...c.head, problems: [] })), orphans: [] }),
    events: async (chain, range) =>
      (chains.get(chain.id)?.events ?? []).filter((e) => !range || (e.seq >= range.from && e.seq <= range.to)),
  };
  return { store, append, chains };
}

function aMemoryArchive(): DigestArchive & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    objects,
    location: 'memory:',
    putNew: async (key, body) => (objects.has(key) ? false : (objects.set(key, body), true)),
    get: async (key) => objects.get(key),
    firstKey: async (prefix) => [...objects.keys()].filter((k) => k.startsWith(prefix)).sort()[0],
  };
}

function anEd25519Key(): { signer: DigestSigner; verifyKey: ReturnType<typeof publicKeyVerifier> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = `local-ed25519:${publicKeyFingerprint(publicKey).slice(0, 32)}`;
  return {
    signer: { algorithm: 'ED25519', keyId, sign: async (m) => sign(null, m, privateKey) },
    verifyKey: publicKeyVerifier('ED25519', keyId, publicKey),
  };
}

describe('signed digests', () => {
  const setup = () => {
    const trail = aTrail();
    const archive = aMemoryArchive();
    const key = anEd25519Key();
    const write = () =>
      writeDigest({ trail: trail.store, archive, signer: key.signer, trailName: 't', now: () => new Date() });
    const read = () =>
      readSealed(archive, {
        trail: 't',
        verify: (s) => (key.verifyKey.verify(signedBytes(s.digest), s.signature) ? undefined : 'bad signature'),
      });
    return { trail, archive, key, write, read };
  };

  it('chains each digest to the one before and keeps the latest first in key order', async () => {
    const { trail, archive, write, read } = setup();
    trail.append('NHI-0000000000000001', 2);
    await write();
    trail.append('NHI-0000000000000002');
    await write();
    await write(); // nothing changed: a heartbeat with no heads
    expect([...archive.objects.keys()].sort()).toEqual([digestKey(3), digestKey(2), digestKey(1)]);
    const sealed = (await read())!;
    expect(sealed.latest.digest).toMatchObject({ seq: 3, kind: 'delta', checkpoint: 1, heads: [] });
    expect(sealed.latest.digest.previous).toEqual({
      seq: 2,
      key: digestKey(2),
      sha256: (parseDigestFile(digestKey(2), archive.objects.get(digestKey(2))!) as StoredDigest).sha256,
    });
    expect([...sealed.heads.values()].map((h) => [h.id, h.count])).toEqual([
      ['NHI-0000000000000001', 2],
      ['NHI-0000000000000002', 1],
    ]);
  });

  it(`writes a checkpoint of every head each ${CHECKPOINT_EVERY} digests, and reads only from the latest one`, async () => {
    const { trail, write, read } = setup();
    trail.append('NHI-0000000000000001');
    for (let i = 0; i < CHECKPOINT_EVERY; i++) await write();
    trail.append('NHI-0000000000000002');
    const outcome = await write();
    expect(outcome).toMatchObject({ seq: CHECKPOINT_EVERY + 1, kind: 'checkpoint', changed: 1, sealed: 2 });
    expect((await read())!.read).toBe(1);
  });

  it('refuses a digest altered in place, one replaced by a validly signed other, one missing, or signed by another key', async () => {
    const { trail, archive, key, write, read } = setup();
    trail.append('NHI-0000000000000001');
    await write();
    trail.append('NHI-0000000000000001');
    await write();
    await write();
    const original = archive.objects.get(digestKey(2))!;
    // Edited: a head lowered, the signature kept.
    const stored = parseDigestFile(digestKey(2), original) as StoredDigest;
    const edited = { ...stored.digest, heads: stored.digest.heads.map((h) => ({ ...h, count: 1 })) };
    archive.objects.set(digestKey(2), encodeDigestFile(edited, stored.signature));
    await expect(read()).rejects.toThrow(`${digestKey(2)}: bad signature`);
    // Re-signed with the real key (a writer that could sign): the next digest's link gives it away.
    archive.objects.set(digestKey(2), encodeDigestFile(edited, await key.signer.sign(signedBytes(edited))));
    await expect(read()).rejects.toThrow('digest #3 does not link to digest #2 as stored: a digest was replaced');
    archive.objects.delete(digestKey(2));
    await expect(read()).rejects.toThrow(`${digestKey(2)} is missing`);
    archive.objects.set(digestKey(2), original);
    const other = anEd25519Key();
    const mine = parseDigestFile(digestKey(3), archive.objects.get(digestKey(3))!) as StoredDigest;
    const forged = { ...mine.digest, signing: { algorithm: 'ED25519' as const, keyId: other.signer.keyId } };
    archive.objects.set(digestKey(3), encodeDigestFile(forged, await other.signer.sign(signedBytes(forged))));
    const result = await verifyAuditTrail({
      trail: trail.store,
      trailName: 't',
      digests: { archive, key: key.verifyKey, intervalMinutes: 60 },
      now: () => new Date(),
    });
    expect(result.problems).toEqual([
      expect.objectContaining({
        kind: 'digests',
        check: 'digest',
        problem: `${digestKey(3)}: signed by ${other.signer.keyId} (ED25519), not by the key it is checked with (${key.signer.keyId})`,
      }),
    ]);
  });

  it('refuses digests of another table and a sealed root that does not add up', async () => {
    const { trail, archive, key, write } = setup();
    trail.append('NHI-0000000000000001');
    await write();
    await expect(readSealed(archive, { trail: 'other-table' })).rejects.toThrow(
      `${digestKey(1)} seals the trail of table t, not other-table`,
    );
    const stored = parseDigestFile(digestKey(1), archive.objects.get(digestKey(1))!) as StoredDigest;
    const lying = { ...stored.digest, sealed: { ...stored.digest.sealed, chains: 7 } };
    archive.objects.set(digestKey(1), encodeDigestFile(lying, await key.signer.sign(signedBytes(lying))));
    await expect(readSealed(archive, { trail: 't' })).rejects.toBeInstanceOf(DigestChainError);
  });

  it('reports a stale latest digest (the writer stopped)', async () => {
    const { trail, archive, key } = setup();
    trail.append('NHI-0000000000000001');
    const old = new Date(Date.now() - 3 * 3600_000);
    await writeDigest({ trail: trail.store, archive, signer: key.signer, trailName: 't', now: () => old });
    const result = await verifyAuditTrail({
      trail: trail.store,
      trailName: 't',
      digests: { archive, key: key.verifyKey, intervalMinutes: 60 },
      now: () => new Date(),
    });
    expect(result).toMatchObject({ ok: true, digest: { seq: 1, stale: true } });
  });

  it('takes the next sequence number again when another writer took it first', async () => {
    const { trail, archive, key } = setup();
    trail.append('NHI-0000000000000001');
    let raced = false;
    const racing: DigestArchive = {
      ...archive,
      putNew: async (k, body) => {
        if (!raced) {
          raced = true;
          // The other writer's digest #1 lands first.
          await writeDigest({ trail: trail.store, archive, signer: key.signer, trailName: 't', now: () => new Date() });
        }
        return archive.putNew(k, body);
      },
    };
    const outcome = await writeDigest({
      trail: trail.store,
      archive: racing,
      signer: key.signer,
      trailName: 't',
      now: () => new Date(),
    });
    expect(outcome).toMatchObject({ seq: 2, changed: 0 });
  });
});

describe('the local digest archive and key', () => {
  it('never replaces a digest file, and keeps them read-only', async () => {
    const home = mkdtempSync(join(tmpdir(), 'closeloop-digests-'));
    const archive = localDigestArchive(home);
    expect(await archive.firstKey('digests/')).toBeUndefined();
    expect(await archive.putNew(digestKey(1), Buffer.from('one'))).toBe(true);
    expect(await archive.putNew(digestKey(1), Buffer.from('two'))).toBe(false);
    expect((await archive.get(digestKey(1)))!.toString()).toBe('one');
    expect(statSync(join(home, digestKey(1))).mode & 0o777).toBe(0o444);
    expect(await archive.firstKey('digests/')).toBe(digestKey(1));
  });

  it('creates one Ed25519 key under the home, the same on every open, private to its owner', async () => {
    const home = mkdtempSync(join(tmpdir(), 'closeloop-key-'));
    const a = await localDigestKeys(home);
    const b = await localDigestKeys(home);
    expect(a.signer.keyId).toBe(b.signer.keyId);
    expect(a.signer.keyId).toMatch(/^local-ed25519:[0-9a-f]{32}$/);
    const message = Buffer.from('closeloop');
    expect(b.verifyKey.verify(message, await a.signer.sign(message))).toBe(true);
    chmodSync(join(home, 'audit-signing-key.pem'), 0o600);
    writeFileSync(join(home, 'audit-signing-key.pem'), 'not a key');
    await expect(localDigestKeys(home)).rejects.toThrow(
      `${join(home, 'audit-signing-key.pem')} is not a private key; restore it from backup`,
    );
  });
});
