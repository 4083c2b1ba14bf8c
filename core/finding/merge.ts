import type { AuditEventDraft } from '../audit/chain';
import { GENESIS_HASH } from '../audit/chain';
import { findingIdFor } from './identity';
import { MAX_LOCATIONS, type Finding, type Location, type Observation, type Source, type Validity } from './model';
import { REUSE_ID, maxSeverity } from './standards';

/**
 * lastSeen moves only when it is older than this. A re-ingest of the same report minutes
 * later is then "unchanged" and costs no write; the precision of lastSeen is one hour.
 */
export const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000;

export type Change = 'created' | 'updated' | 'unchanged';

export interface MergeResult {
  change: Change;
  /** The finding to write (version already bumped), or the untouched one when nothing changed. */
  finding: Finding;
  /** True when the finding must be written (content changed, or lastSeen refreshed). */
  write: boolean;
  events: AuditEventDraft[];
}

/** Key under which two locations are the same place. */
export function locationKey(l: Location): string {
  return [l.kind, l.repository ?? '', l.path ?? '', l.line ?? '', l.commit ?? '', l.url ?? '', l.resource ?? ''].join(
    '|',
  );
}

function sourceKey(s: Source): string {
  return `${s.scanner}|${s.scannerId}`;
}

const VALIDITY_STRENGTH: Record<Validity, number> = { unknown: 0, inactive: 1, active: 2 };

/** The finding an observation creates. Chain fields are set by the caller after chaining. */
export function createFinding(obs: Observation, now: Date, actor: string): MergeResult {
  const at = now.toISOString();
  const locations = dedupeLocations(obs.locations);
  const finding: Finding = {
    id: findingIdFor(obs.fingerprint),
    fingerprint: obs.fingerprint,
    title: obs.title,
    nhiType: obs.nhiType,
    detector: obs.detector,
    severity: obs.severity,
    validity: obs.validity,
    publiclyExposed: obs.publiclyExposed,
    asset: obs.asset,
    locations: locations.slice(0, MAX_LOCATIONS),
    locationsNotListed: Math.max(0, locations.length - MAX_LOCATIONS),
    sources: [obs.source],
    owaspNhi: withReuse(obs.owaspNhi, locations),
    nistCsf: [...new Set(obs.nistCsf)].sort(),
    ...(obs.secretHash ? { secretHash: obs.secretHash } : {}),
    ...(obs.secretPreview ? { secretPreview: obs.secretPreview } : {}),
    status: 'open',
    generation: 1,
    evidence: [],
    firstSeen: at,
    lastSeen: at,
    version: 1,
    eventCount: 0,
    lastEventHash: GENESIS_HASH,
  };
  const events: AuditEventDraft[] = [
    {
      at,
      actor,
      action: 'finding.created',
      to: 'open',
      reason: `reported by ${obs.source.scanner} (${obs.source.ruleId})`,
      data: {
        scanner: obs.source.scanner,
        ruleId: obs.source.ruleId,
        severity: obs.severity,
        validity: obs.validity,
        locations: locations.length,
      },
    },
  ];
  return { change: 'created', finding, write: true, events };
}

/** Folds one more observation of the same exposure into a finding. Pure. */
export function mergeObservation(existing: Finding, obs: Observation, now: Date, actor: string): MergeResult {
  const at = now.toISOString();
  const events: AuditEventDraft[] = [];
  const next: Finding = { ...existing };
  const changes: string[] = [];

  const known = new Map(existing.sources.map((s) => [sourceKey(s), s]));
  const prior = known.get(sourceKey(obs.source));
  if (!prior) {
    next.sources = [...existing.sources, obs.source];
    events.push({
      at,
      actor,
      action: 'source.added',
      reason: `also reported by ${obs.source.scanner} (${obs.source.ruleId})`,
      data: { scanner: obs.source.scanner, scannerId: obs.source.scannerId, ruleId: obs.source.ruleId },
    });
  } else if (prior.state !== obs.source.state) {
    next.sources = existing.sources.map((s) =>
      sourceKey(s) === sourceKey(obs.source)
        ? { ...s, state: obs.source.state, ...(obs.source.ref ? { ref: obs.source.ref } : {}) }
        : s,
    );
    events.push({
      at,
      actor,
      action: 'source.state_changed',
      from: prior.state,
      to: obs.source.state,
      reason: `${obs.source.scanner} reports the alert ${obs.source.state}`,
      data: { scanner: obs.source.scanner, scannerId: obs.source.scannerId },
    });
  }

  // A source first ingested before its scanner's record could be written back to learns it now.
  let refLearned = false;
  if (prior && obs.source.ref && !prior.ref && prior.state === obs.source.state) {
    next.sources = existing.sources.map((s) =>
      sourceKey(s) === sourceKey(obs.source) ? { ...s, ref: obs.source.ref } : s,
    );
    refLearned = true;
  }

  const locationKeys = new Set(existing.locations.map(locationKey));
  const added = dedupeLocations(obs.locations).filter((l) => !locationKeys.has(locationKey(l)));
  if (added.length > 0) {
    const room = Math.max(0, MAX_LOCATIONS - existing.locations.length);
    next.locations = [...existing.locations, ...added.slice(0, room)];
    next.locationsNotListed = existing.locationsNotListed + Math.max(0, added.length - room);
    changes.push(`${added.length} new location${added.length === 1 ? '' : 's'}`);
  }

  const validityRaised = VALIDITY_STRENGTH[obs.validity] > VALIDITY_STRENGTH[existing.validity];
  if (validityRaised) {
    next.validity = obs.validity;
    changes.push(`validity ${existing.validity} → ${obs.validity}`);
  }
  if (obs.publiclyExposed && !existing.publiclyExposed) {
    next.publiclyExposed = true;
    changes.push('seen in public');
  }
  const severity = maxSeverity(existing.severity, obs.severity);
  if (severity !== existing.severity) {
    next.severity = severity;
    changes.push(`severity ${existing.severity} → ${severity}`);
  }
  const owasp = [...new Set([...existing.owaspNhi, ...withReuse(obs.owaspNhi, next.locations)])].sort(compareNhi);
  if (owasp.join() !== existing.owaspNhi.join()) {
    next.owaspNhi = owasp;
    changes.push(`OWASP NHI ${owasp.join(', ')}`);
  }
  const csf = [...new Set([...existing.nistCsf, ...obs.nistCsf])].sort();
  if (csf.join() !== existing.nistCsf.join()) next.nistCsf = csf;
  if (!existing.secretHash && obs.secretHash) {
    next.secretHash = obs.secretHash;
    next.secretPreview = obs.secretPreview;
  }

  if (changes.length > 0) {
    events.push({
      at,
      actor,
      action: 'finding.updated',
      reason: changes.join('; '),
      // Structured, so that "now verified active" can be told to people (core/notify/notices.ts).
      ...(validityRaised ? { data: { validity: { from: existing.validity, to: next.validity } } } : {}),
    });
  }

  const contentChanged =
    events.length > 0 || refLearned || next.nistCsf !== existing.nistCsf || next.secretHash !== existing.secretHash;
  const stale = now.getTime() - Date.parse(existing.lastSeen) >= LAST_SEEN_RESOLUTION_MS;
  if (!contentChanged && !stale) return { change: 'unchanged', finding: existing, write: false, events: [] };
  next.lastSeen = at;
  next.version = existing.version + 1;
  return { change: contentChanged ? 'updated' : 'unchanged', finding: next, write: true, events };
}

function dedupeLocations(locations: Location[]): Location[] {
  const seen = new Set<string>();
  const out: Location[] = [];
  for (const l of locations) {
    const key = locationKey(l);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(l);
    }
  }
  return out;
}

/** Adds NHI9 (reuse) when one secret shows up in more than one repository or account. */
function withReuse(ids: Finding['owaspNhi'], locations: Location[]): Finding['owaspNhi'] {
  const places = new Set(locations.map((l) => l.repository ?? l.resource?.split(':')[4] ?? '').filter(Boolean));
  const out = places.size > 1 ? [...new Set([...ids, REUSE_ID])] : [...new Set(ids)];
  return out.sort(compareNhi);
}

function compareNhi(a: string, b: string): number {
  return Number(a.slice(3)) - Number(b.slice(3));
}
