import fs from 'node:fs';
import path from 'node:path';

/**
 * Which helpers a page may call, read from the template sources: the page, its layouts, and every
 * template they include by a literal path, recursively. Plug-ins prepare only for pages that need
 * it: `signInAnonymously()` is synchronous, so auth takes a guest rate-limit point before the
 * render, and a page that cannot create a guest must not hold one, or a burst of ordinary page
 * views behind one NAT would refuse a real new guest.
 */
export interface TemplateScan {
  /** Whether rendering these templates (paths relative to the pages folder) may call the helper `name`. */
  mayCall(files: readonly string[], name: string): boolean;
}
const INCLUDE = /\b(?:includeAsync|include|layout)\s*\(\s*/g;
// A whole first argument that is one string literal (no `${}`), as in include('/_private/x', data).
const LITERAL = /^(?:'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`\\$]*)`)\s*[,)]/;

/**
 * In production (`cache`) each page is scanned once, like its compiled template; in development
 * it is scanned on every request, so an edited template counts at once, as it renders at once.
 */
export function createTemplateScan(pagesDir: string, options: { cache: boolean }): TemplateScan {
  const views = path.resolve(pagesDir);
  const scanned = new Map<string, boolean>();
  const mentions = new Map<string, RegExp>();

  /** The templates `source` (the file `from`) includes; null for an include whose path is computed. */
  function includesOf(source: string, from: string): Array<string | null> {
    const targets: Array<string | null> = [];
    for (const call of source.matchAll(INCLUDE)) {
      const literal = LITERAL.exec(source.slice(call.index + call[0].length));
      const name = literal ? (literal[1] ?? literal[2] ?? literal[3])! : null;
      targets.push(name === null ? null : resolve(name, from));
    }
    return targets;
  }

  /** Where Eta finds `name` included from `from`: `/x` under the pages folder, `./x` beside `from`. */
  function resolve(name: string, from: string): string {
    const file = path.extname(name) ? name : `${name}.eta`;
    return /^[/\\]/.test(file) ? path.join(views, file.replace(/^[/\\]+/, '')) : path.join(path.dirname(from), file);
  }

  function scan(files: readonly string[], mention: RegExp): boolean {
    const pending = files.map((file) => path.join(views, file));
    const seen = new Set<string>();
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      // Eta refuses templates outside the pages folder: they never render.
      if (seen.has(file) || !file.startsWith(views + path.sep)) continue;
      seen.add(file);
      let source: string;
      try {
        source = fs.readFileSync(file, 'utf8');
      } catch {
        continue; // a missing template fails its render anyway
      }
      if (mention.test(source)) return true;
      for (const target of includesOf(source, file)) {
        // A computed path could name any template: assume it may call the helper.
        if (target === null) return true;
        pending.push(target);
      }
    }
    return false;
  }

  return {
    mayCall(files, name) {
      let mention = mentions.get(name);
      if (!mention) mentions.set(name, (mention = new RegExp(`\\b${name}\\b`)));
      if (!options.cache) return scan(files, mention);
      const key = `${name}\n${files.join('\n')}`;
      let result = scanned.get(key);
      if (result === undefined) scanned.set(key, (result = scan(files, mention)));
      return result;
    },
  };
}
