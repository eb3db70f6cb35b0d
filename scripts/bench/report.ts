/**
 * What a bench run reports: one row per figure, each next to its floor and their ratio, as a
 * table for people and as one JSON object for machines.
 */
import os from 'node:os';

export interface Row {
  /** The scenario: guest-creation, signed-in-render, login-burst-p99, cleanup, memory. */
  name: string;
  /** Which figure of the scenario this row is (throughput, p99...); the first row is the headline. */
  metric: string;
  value: number | null;
  unit: string;
  /** The same figure for the floor (or the stated reference), when there is one. */
  floor: number | null;
  /** value / floor. */
  ratio: number | null;
  /** Readable, e.g. "ratio ≥ 0.8"; null when the figure is informational. */
  target: string | null;
  met: boolean | null;
  note?: string;
}

export interface Machine { cpus: number; model: string; memoryGb: number; node: string; date: string }

/** Which backend ran (`--backend`): "sqlite" or "postgres", and its version and settings. */
export interface Backend { name: string; description: string }

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** A row with its ratio computed; `check` decides `met` from value and ratio when there is a target. */
export function row(fields: Omit<Row, 'ratio' | 'met'> & { check?(value: number, ratio: number | null): boolean }): Row {
  const { check, ...rest } = fields;
  const ratio = rest.value !== null && rest.floor ? rest.value / rest.floor : null;
  const met = check && rest.value !== null && Number.isFinite(rest.value) ? check(rest.value, ratio) : null;
  return { ...rest, ratio, met };
}

/** A scenario that produced no figure: skipped (a script it needs is missing) or crashed. */
export function withoutFigure(name: string, metric: 'skipped' | 'crashed', note: string): Row {
  return { name, metric, value: null, unit: '', floor: null, ratio: null, target: null, met: null, note };
}

export function toJson(machine: Machine, backend: Backend, rows: readonly Row[]): string {
  const round = (n: number | null) => (n === null || !Number.isFinite(n) ? null : Math.round(n * 1000) / 1000);
  return JSON.stringify({
    machine,
    backend: { name: backend.name, description: backend.description },
    scenarios: rows.map((r) => ({
      name: r.name, value: round(r.value), unit: r.unit, floor: round(r.floor), ratio: round(r.ratio), target: r.target, met: r.met,
      metric: r.metric, ...(r.note ? { note: r.note } : {}),
    })),
  });
}

export function toTable(machine: Machine, backend: Backend, rows: readonly Row[], mode: string): string {
  const header = ['scenario', 'metric', 'value', 'unit', 'floor', 'ratio', 'target', 'met'];
  const cells = rows.map((r) => [
    r.name, r.metric, format(r.value), r.unit, format(r.floor), r.ratio === null ? '—' : r.ratio.toFixed(2),
    r.target ?? '', r.met === null ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ').trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.name} ${r.metric}: ${r.note}`);
  return [
    `guestkit bench (${mode}) on ${backend.description} · ${machine.cpus} × ${machine.model} · ${machine.memoryGb} GB · Node ${machine.node} · ${machine.date}`,
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...cells.map(line),
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
  ].join('\n');
}

function format(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 2);
}
