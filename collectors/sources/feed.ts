import Parser from 'rss-parser';
import { decodeBody } from '../charset';
import { CollectError } from '../errors';

/**
 * RSS 2.0 / RSS 1.0 / Atom → items, from bytes: rss-parser's own fetching would garble GBK feeds, so
 * the fetch layer hands over bytes, they are decoded by the declared (or sniffed) charset, then parsed.
 */

export interface FeedItem {
  title: string;
  link?: string;
  guid?: string;
  /** Body as the feed gives it (HTML): content:encoded, content, or description/summary. */
  html: string;
  author?: string;
  /** The date as written, for parseChineseTime (rss-parser's own conversion misreads "CST" and Chinese forms). */
  date?: string;
  categories: string[];
}

export interface Feed {
  title?: string;
  items: FeedItem[];
}

type RawItem = Parser.Item & {
  'content:encoded'?: string;
  summary?: string;
  author?: string;
  id?: string;
  rawPubDate?: string;
  rawPublished?: string;
  rawUpdated?: string;
  dcDate?: string;
  atomCategories?: Array<{ $?: { term?: string; label?: string } } | string>;
};

const parser = new Parser<Record<string, unknown>, RawItem>({
  customFields: {
    item: [
      ['pubDate', 'rawPubDate'],
      ['published', 'rawPublished'],
      ['updated', 'rawUpdated'],
      ['dc:date', 'dcDate'],
      // Atom's <category term="…"/> carries its value in an attribute rss-parser does not read.
      ['category', 'atomCategories', { keepArray: true }],
    ],
  },
});

/** HTML entities that are not XML ones but appear in real feeds outside CDATA (the XML parser is strict). */
const HTML_ENTITIES: Record<string, string> = {
  nbsp: '#160', ldquo: '#8220', rdquo: '#8221', lsquo: '#8216', rsquo: '#8217', mdash: '#8212', ndash: '#8211',
  hellip: '#8230', middot: '#183', copy: '#169', reg: '#174', times: '#215', bull: '#8226', emsp: '#8195', ensp: '#8194',
};

function fixEntities(xml: string): string {
  return xml.replace(/&([a-z]+);/g, (whole, name: string) => (HTML_ENTITIES[name] ? `&${HTML_ENTITIES[name]};` : whole));
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object' && '_' in value) return text((value as { _: unknown })._);
  return undefined;
}

export async function parseFeed(bytes: Buffer, contentType: string | undefined, url: string, encoding?: string): Promise<Feed> {
  const { text: xml } = decodeBody(bytes, contentType, encoding);
  let feed: Parser.Output<RawItem>;
  try {
    feed = await parser.parseString(fixEntities(xml.replace(/^\uFEFF/, '')));
  } catch (err) {
    throw new CollectError('SB_COLLECT_MALFORMED', `not a readable RSS/Atom feed: ${(err as Error).message.split('\n')[0]}`, { url, cause: err });
  }
  if (!Array.isArray(feed.items)) throw new CollectError('SB_COLLECT_MALFORMED', 'feed without items', { url });
  return {
    ...(feed.title ? { title: feed.title } : {}),
    items: feed.items.map((item) => {
      const categories = [
        ...(item.categories ?? []).map((c) => text(c)),
        ...(item.atomCategories ?? []).map((c) => (typeof c === 'string' ? c : (c.$?.label ?? c.$?.term))),
      ].filter((c): c is string => typeof c === 'string' && c.trim() !== '');
      const link = text(item.link);
      const guid = text(item.guid) ?? text(item.id);
      const author = text(item.creator) ?? text(item.author);
      const date = text(item.rawPubDate) ?? text(item.rawPublished) ?? text(item.rawUpdated) ?? text(item.dcDate) ?? item.isoDate;
      return {
        title: text(item.title) ?? '',
        ...(link ? { link } : {}),
        ...(guid ? { guid } : {}),
        html: text(item['content:encoded']) ?? text(item.content) ?? text(item.summary) ?? '',
        ...(author ? { author } : {}),
        ...(date ? { date } : {}),
        categories: [...new Set(categories)],
      };
    }),
  };
}
