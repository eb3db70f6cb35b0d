import type { PageScope } from './scope.ts';

/** The page about to render, for plug-ins that prepare for it. */
export interface PageInfo {
  /** Its template files (page and layouts), relative to the pages folder. */
  readonly files: readonly string[];
  /**
   * Whether rendering it may call the helper `name`: its templates, or a partial they include,
   * mention it (see template-scan.ts).
   */
  mayCall(name: string): boolean;
}

/** What a render came to, for plug-ins to act on after its writes are committed (or discarded). */
export interface RenderResult {
  /** Why the render failed, if it did: then none of its queued writes reached the database. */
  readonly failure: unknown;
}

/**
 * A feature that adds template helpers (auth adds `signInAnonymously`, `signIn`, …) and takes
 * part in every render: it gets ready before, and applies what the render decided after.
 */
export interface PagePlugin {
  /** Names this plug-in puts in every template's scope, bound to one render. */
  helpers(scope: PageScope): Record<string, unknown>;
  /** Loads what the plug-in's synchronous helpers will read, takes budgets. */
  beforeRender?(scope: PageScope, page: PageInfo): Promise<void>;
  /** Once the template is done, before its writes commit: queues what must commit with them. */
  beforeCommit?(scope: PageScope): void;
  /**
   * After the render's writes are committed, or after a failure: applies what the render decided
   * (a new session id, cookies). May answer the request instead of the page: a path to redirect to.
   */
  afterRender?(scope: PageScope, result: RenderResult): Promise<{ redirect: string } | void>;
}
