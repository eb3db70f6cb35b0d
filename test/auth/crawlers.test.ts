/** Which user agents are crawlers (no guest for them): isbot's answer, remembered per string. */
import { describe, expect, it } from 'vitest';
import { createCrawlerCheck } from '../../src/auth/crawlers.ts';

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

describe('the crawler check', () => {
  it('tells a crawler from a browser, asked once or again', () => {
    const isCrawler = createCrawlerCheck();
    for (let i = 0; i < 2; i++) {
      expect(isCrawler(GOOGLEBOT)).toBe(true);
      expect(isCrawler(FIREFOX)).toBe(false);
    }
  });

  it('still knows a crawler after a thousand other user agents have been asked about', () => {
    const isCrawler = createCrawlerCheck();
    expect(isCrawler(GOOGLEBOT)).toBe(true);
    for (let i = 0; i < 1000; i++) isCrawler(`${FIREFOX} build/${i}`);
    expect(isCrawler(GOOGLEBOT)).toBe(true);
    expect(isCrawler(FIREFOX)).toBe(false);
  });
});
