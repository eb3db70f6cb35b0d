import express from 'express';

/** body-parser reports our verify failure with this `type` (its own status for it is 403). */
export const MALFORMED_BODY = 'form.malformed';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses urlencoded form bodies up to `limit`. Node's parser quietly replaces bad percent-escapes
 * and invalid UTF-8, storing garbled text; we refuse such bodies with a 400 instead.
 */
export function formBody(limit = '64kb') {
  return express.urlencoded({
    extended: false,
    limit,
    parameterLimit: 200,
    verify(_req, _res, buffer) {
      try {
        const text = utf8.decode(buffer);
        for (const pair of text.split('&')) {
          for (const part of pair.split('=')) decodeURIComponent(part.replaceAll('+', ' '));
        }
      } catch {
        throw Object.assign(new Error('malformed form body'), { type: MALFORMED_BODY });
      }
    },
  });
}
