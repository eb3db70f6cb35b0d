import type { CookieOptions, Request, Response } from 'express';
import type { Config } from '../config.ts';
import { readCookie } from '../http/cookies.ts';

/**
 * The guest's resume cookie. Active, it signs the guest back in on any request (their session
 * expired, the server restarted). After a soft sign-out it is *paused* (`~` prefix): nothing signs
 * them in automatically, but their next `signInAnonymously()` resumes the same guest.
 */
export interface ResumeCookie {
  name: string;
  /** The active token, if any (a paused one is not returned). */
  read(req: Request): string | undefined;
  /** The token of a guest who signed out softly, if any. */
  readPaused(req: Request): string | undefined;
  set(res: Response, token: string): void;
  pause(res: Response, token: string): void;
  clear(res: Response): void;
}

const PAUSED = '~';

export function createResumeCookie(config: Config): ResumeCookie {
  const production = config.env === 'production';
  const name = production ? '__Host-gk.resume' : 'gk.resume';
  const options: CookieOptions = { httpOnly: true, sameSite: 'lax', secure: production, path: '/' };
  const maxAge = config.guestRetentionDays * 86_400_000;
  const raw = (req: Request) => readCookie(req.headers.cookie, name);
  return {
    name,
    read(req) {
      const value = raw(req);
      return value?.startsWith(PAUSED) ? undefined : value;
    },
    readPaused(req) {
      const value = raw(req);
      return value?.startsWith(PAUSED) ? value.slice(PAUSED.length) : undefined;
    },
    set: (res, token) => void res.cookie(name, token, { ...options, maxAge }),
    pause: (res, token) => void res.cookie(name, PAUSED + token, { ...options, maxAge }),
    clear: (res) => void res.clearCookie(name, options),
  };
}
