/**
 * `npm audit` for the production dependencies: exits 0 when no high or critical advisory applies,
 * 1 when one does, and 2 when the audit could not run. It needs the registry's advisory endpoint
 * (a network call), so it is not part of `npm test`; run it where the registry is reachable:
 *
 *   npm run audit:deps
 *
 * The offline half (csurf's old `cookie` is overridden) is in headers.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface AuditReport {
  metadata?: { vulnerabilities?: Record<'info' | 'low' | 'moderate' | 'high' | 'critical' | 'total', number> };
  vulnerabilities?: Record<string, { severity: string; via: unknown[]; fixAvailable: unknown }>;
  message?: string;
  error?: { summary?: string; detail?: string };
}

const root = fileURLToPath(new URL('..', import.meta.url));
const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });

let report: AuditReport;
try {
  report = JSON.parse(run.stdout) as AuditReport;
} catch {
  report = {};
}

const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const reason = report.message ?? report.error?.summary ?? (run.error?.message || run.stderr.trim().split('\n').at(-1) || 'no report');
  console.error(`npm audit could not run, so nothing was checked: ${reason}`);
  console.error('It needs network access to the registry\'s advisory endpoint (POST /-/npm/v1/security/advisories/bulk).');
  process.exit(2);
}

const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, entry]) => entry.severity === 'high' || entry.severity === 'critical');
console.log(`npm audit --omit=dev: ${counts.total} advisories (critical ${counts.critical}, high ${counts.high}, `
  + `moderate ${counts.moderate}, low ${counts.low}, info ${counts.info})`);
for (const [name, entry] of serious) console.error(`  ${entry.severity}: ${name} (fix available: ${JSON.stringify(entry.fixAvailable)})`);
process.exit(counts.high + counts.critical > 0 ? 1 : 0);
