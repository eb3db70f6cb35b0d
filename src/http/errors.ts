/** An HTTP-level failure (bad body, expired form) answered with an error page. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What the error page says for each status: short, readable, nothing internal. */
export const errorPages: Record<number, { title: string; message: string }> = {
  400: { title: 'Bad request', message: 'The form data could not be read. Please go back and try again.' },
  403: { title: 'This form has expired', message: 'For your security, forms expire. Go back, reload the page and submit it again.' },
  404: { title: 'Page not found', message: 'There is nothing at this address.' },
  405: { title: 'Method not allowed', message: 'This page cannot be used that way.' },
  409: { title: 'That cannot be done', message: 'This conflicts with how things are now. Please go back and reload the page.' },
  413: { title: 'Too much data', message: 'What you sent is too large. Please shorten it and try again.' },
  415: { title: 'Unsupported form encoding', message: 'The form was sent in an encoding this site does not accept. Please go back and try again.' },
  429: { title: 'Too many requests', message: 'Please wait a minute and try again.' },
  500: { title: 'Something went wrong', message: 'An unexpected error happened on our side. Please try again.' },
  502: { title: 'Another service is not answering', message: 'A service we depend on did not answer properly, so nothing was changed. Please try again in a minute.' },
  503: { title: 'Back in a moment', message: 'We cannot reach our database right now, so nothing was saved. Please try again in a few seconds.' },
  504: { title: 'Another service is too slow', message: 'A service we depend on took too long to answer, so nothing was changed. Please try again in a minute.' },
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);

/**
 * An error page that needs nothing but this process: no template, no session, no database. For
 * when the database is unreachable (the site's layout reads the visitor's cart) or the error
 * page itself failed to render.
 */
export function standaloneErrorPage(status: number, title: string, message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · guestkit shop</title><link rel="stylesheet" href="/styles.css"></head>
<body><main id="main" class="container"><section class="narrow error-page">
<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p class="status">Error ${status}</p>
<p><a href="">Try again</a> · <a href="/">Go to the home page</a></p>
</section></main></body>
</html>
`;
}
