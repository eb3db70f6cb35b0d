import fs from 'node:fs';
import path from 'node:path';

/** A page file matched to a request path. Paths are relative to `views/pages`, with `/` separators. */
export interface PageMatch {
  file: string;
  params: Record<string, string>;
  /** `_layout.eta` files from the outermost folder inwards. */
  layouts: string[];
}

interface Folder {
  files: Map<string, string>;
  folders: Map<string, Folder>;
  index?: string;
  layout?: string;
  paramFile?: { name: string; file: string };
  paramFolder?: { name: string; folder: Folder };
}

const PARAM = /^\[([A-Za-z_][A-Za-z0-9_]*)\]$/;

export interface RouteTable {
  match(pathname: string): PageMatch | null;
  /** The layouts that wrap the site's own pages (404, errors): the root folder's. */
  rootLayouts: string[];
}

/**
 * The route table for `views/pages`: `index.eta` serves its folder, `[name].eta` and `[name]/`
 * capture a segment, and no file or folder whose name starts with `_` (partials, layouts, error
 * pages, `_private/`) is ever routable. Static names win over parameters. The `_` rule is about
 * template files only: a captured value (`/orders/_x1`) may start with anything URL-safe.
 */
export function buildRoutes(pagesDir: string): RouteTable {
  const root = scan(pagesDir, '');
  return {
    rootLayouts: root.layout ? [root.layout] : [],
    match(pathname) {
      const segments = decodeSegments(pathname);
      return segments ? find(root, segments, 0, {}, root.layout ? [root.layout] : []) : null;
    },
  };
}

function scan(dir: string, relative: string): Folder {
  const folder: Folder = { files: new Map(), folders: new Map() };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.name === '_layout.eta') folder.layout = rel;
    if (entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) {
      const child = scan(path.join(dir, entry.name), rel);
      const param = PARAM.exec(entry.name);
      if (param) folder.paramFolder = { name: param[1]!, folder: child };
      else folder.folders.set(entry.name, child);
    } else if (entry.isFile() && entry.name.endsWith('.eta')) {
      const name = entry.name.slice(0, -'.eta'.length);
      const param = PARAM.exec(name);
      if (name === 'index') folder.index = rel;
      else if (param) folder.paramFile = { name: param[1]!, file: rel };
      else folder.files.set(name, rel);
    }
  }
  return folder;
}

/**
 * Decoded path segments, or null for anything that could step outside the pages folder. A
 * segment may start with `_`: `_`-files are never in the table (see `scan`), so such a segment
 * can only fill a parameter, like an order id that happens to start with `_`.
 */
function decodeSegments(pathname: string): string[] | null {
  const segments: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

function find(folder: Folder, segments: string[], at: number, params: Record<string, string>, layouts: string[]): PageMatch | null {
  if (at === segments.length) return folder.index ? { file: folder.index, params, layouts } : null;
  const segment = segments[at]!;
  const last = at === segments.length - 1;
  const file = last ? folder.files.get(segment) : undefined;
  if (file) return { file, params, layouts };
  const child = folder.folders.get(segment);
  const inChild = child && find(child, segments, at + 1, params, withLayout(layouts, child));
  if (inChild) return inChild;
  if (last && folder.paramFile) {
    return { file: folder.paramFile.file, params: { ...params, [folder.paramFile.name]: segment }, layouts };
  }
  const param = folder.paramFolder;
  return param ? find(param.folder, segments, at + 1, { ...params, [param.name]: segment }, withLayout(layouts, param.folder)) : null;
}

function withLayout(layouts: string[], folder: Folder): string[] {
  return folder.layout ? [...layouts, folder.layout] : layouts;
}
