/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): where the busy time went, by function
 * (self time) and by package. Usable on its own:
 *
 *   npx tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface Hotspot { name: string; where: string; area: string; ms: number; share: number }

export interface ProfileSummary { busyMs: number; idleMs: number; functions: Hotspot[]; areas: Array<{ area: string; ms: number; share: number }> }

const IDLE = new Set(['(idle)', '(root)']);

export function summariseProfile(file: string, root: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const functions = new Map<string, Omit<Hotspot, 'share'>>();
  let idleMs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    if (IDLE.has(name)) {
      idleMs += us / 1000;
      continue;
    }
    const where = url ? `${shortPath(url, root)}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, area: areaOf(url, name, root), ms: 0 };
    entry.ms += us / 1000;
    functions.set(key, entry);
  }
  const busyMs = [...functions.values()].reduce((sum, entry) => sum + entry.ms, 0);
  const byArea = new Map<string, number>();
  for (const entry of functions.values()) byArea.set(entry.area, (byArea.get(entry.area) ?? 0) + entry.ms);
  return {
    busyMs,
    idleMs,
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms).map((entry) => ({ ...entry, share: entry.ms / busyMs })),
    areas: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, ms, share: ms / busyMs })),
  };
}

/** Where a function lives: our src/, a package, Node itself, or V8's own buckets (GC, program). */
function areaOf(url: string, name: string, root: string): string {
  if (!url) return name.startsWith('(') ? name : '(native functions, compiled templates)';
  if (url.startsWith('node:')) return 'node core';
  const file = shortPath(url, root);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
  if (pkg) return pkg;
  return file.split('/')[0] ?? file;
}

function shortPath(url: string, root: string): string {
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  return file.startsWith(root) ? path.relative(root, file) : file;
}

export function formatSummary(summary: ProfileSummary, top = 20): string {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const ms = (value: number) => `${Math.round(value).toLocaleString('en-US').padStart(7)} ms`;
  return [
    `busy ${Math.round(summary.busyMs).toLocaleString('en-US')} ms, idle ${Math.round(summary.idleMs).toLocaleString('en-US')} ms`,
    '',
    'Self time by area:',
    ...summary.areas.slice(0, 12).map((area) => `  ${pct(area.share)} ${ms(area.ms)}  ${area.area}`),
    '',
    `Top ${top} functions by self time:`,
    ...summary.functions.slice(0, top).map((fn) => `  ${pct(fn.share)} ${ms(fn.ms)}  ${fn.name}  ${fn.where}`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(summariseProfile(file, process.cwd()), Number(top ?? 20)));
}
