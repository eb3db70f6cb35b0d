import { isbot } from 'isbot';

/** User agents remembered: the browsers of a site's visitors are few, and repeat. */
const REMEMBERED = 500;

/**
 * Whether a request's User-Agent is a crawler's, which gets no guest account. isbot is one large
 * regular expression, the same answer every time for the same string: browsers send a handful
 * of distinct strings, so the answers are kept (the oldest forgotten first).
 */
export function createCrawlerCheck(): (userAgent: string) => boolean {
  const answers = new Map<string, boolean>();
  return (userAgent) => {
    let answer = answers.get(userAgent);
    if (answer === undefined) {
      answer = isbot(userAgent);
      if (answers.size >= REMEMBERED) answers.delete(answers.keys().next().value!);
      answers.set(userAgent, answer);
    }
    return answer;
  };
}
