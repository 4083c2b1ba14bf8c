import type { AuditEvent } from '../audit/chain';
import type { Finding } from './model';

/** The finding as users and tools see it: no internal bookkeeping, never the secret. */
export function publicFinding(f: Finding) {
  return {
    id: f.id,
    title: f.title,
    severity: f.severity,
    status: f.status,
    owner: f.owner ?? null,
    dueAt: f.dueAt ?? null,
    ticket: f.ticket ?? null,
    nhiType: f.nhiType,
    detector: f.detector,
    validity: f.validity,
    publiclyExposed: f.publiclyExposed,
    asset: f.asset,
    sources: f.sources,
    locations: f.locations,
    locationsNotListed: f.locationsNotListed,
    owaspNhi: f.owaspNhi,
    nistCsf: f.nistCsf,
    secretPreview: f.secretPreview ?? null,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
  };
}

/** An audit event as users and tools see it. */
export function publicEvent(e: AuditEvent) {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    ...(e.actorIdentity ? { actorIdentity: e.actorIdentity } : {}),
    action: e.action,
    from: e.from,
    to: e.to,
    reason: e.reason,
    evidenceRef: e.evidenceRef,
    data: e.data,
    hash: e.hash,
    prevHash: e.prevHash,
  };
}
