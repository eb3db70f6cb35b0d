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
  413: { title: 'Too much data', message: 'What you sent is too large. Please shorten it and try again.' },
  415: { title: 'Unsupported form encoding', message: 'The form was sent in an encoding this site does not accept. Please go back and try again.' },
  429: { title: 'Too many requests', message: 'Please wait a minute and try again.' },
  500: { title: 'Something went wrong', message: 'An unexpected error happened on our side. Please try again.' },
  503: { title: 'Back in a moment', message: 'We cannot reach our database right now, so nothing was saved. Please try again in a few seconds.' },
};
