import type { Finding } from '../model';

/** Automated remediation (rotation). The rotation issue provides the real adapter. */
export interface RotationPort {
  rotate(finding: Finding): Promise<{ status: 'rotated'; evidenceRef: string; simulated: boolean } | { status: 'not_configured'; reason: string } | { status: 'failed'; reason: string }>;
}

/** Until rotation is configured every automated remediation falls back to the owner. */
export const rotationNotConfigured: RotationPort = {
  rotate: async () => ({ status: 'not_configured', reason: 'rotation not configured' }),
};
