import { load, type CheerioAPI } from 'cheerio';
import sanitize from 'sanitize-html';

/**
 * Scraped HTML is hostile. Documents carry plain text (tags stripped, entities decoded); `html` is
 * emitted only when a source asks for it (`keep_html`), and then only after allow-list sanitising:
 * structural tags, http(s) links and images, no attributes but href/src/alt, no scripts or styles.
 */

type Node = ReturnType<CheerioAPI['root']>[number] | { type: string; name?: string; data?: string; attribs?: Record<string, string>; children?: Node[] };

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'iframe', 'svg', 'canvas', 'object', 'embed', 'select', 'textarea', 'button', 'head']);
const BLOCK = new Set([
  'p', 'div', 'section', 'article', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'table', 'blockquote', 'pre',
  'header', 'footer', 'figure', 'figcaption', 'dd', 'dt', 'dl', 'hr', 'main', 'aside', 'nav', 'form', 'title',
]);

function walk(node: Node, out: string[]): void {
  const n = node as { type: string; name?: string; data?: string; attribs?: Record<string, string>; children?: Node[] };
  if (n.type === 'text') {
    out.push(n.data ?? '');
    return;
  }
  if (n.type === 'script' || n.type === 'style' || n.type === 'comment' || n.type === 'directive' || n.type === 'cdata') return;
  const name = n.name?.toLowerCase();
  if (name && SKIP.has(name)) return;
  if (name === 'br') {
    out.push('\n');
    return;
  }
  if (name === 'img') {
    // Emoticons (Weibo's <img alt="[哈哈]">) are words of the text.
    const alt = n.attribs?.alt ?? '';
    if (/^\[[^\]]{1,10}\]$/.test(alt)) out.push(alt);
    return;
  }
  const block = name !== undefined && BLOCK.has(name);
  if (block) out.push('\n');
  for (const child of n.children ?? []) walk(child, out);
  if (block) out.push('\n');
}

/** Normalises whitespace: one line per paragraph, no empty lines, no leading full-width indent. */
export function normaliseText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\u00a0\u200b\ufeff]+/g, ' ').replace(/^[\s\u3000]+|[\s\u3000]+$/g, ''))
    .filter((line) => line !== '')
    .join('\n');
}

/** Plain text of an HTML fragment or page: tags stripped, entities decoded, block elements on their own lines. */
export function htmlToText(html: string): string {
  if (!/[<&]/.test(html)) return normaliseText(html);
  const $ = load(html);
  return nodesToText($.root().toArray() as Node[]);
}

export function nodesToText(nodes: Node[]): string {
  const out: string[] = [];
  for (const node of nodes) walk(node, out);
  return normaliseText(out.join(''));
}

/** Absolute http(s) URL or undefined. */
export function absoluteHttpUrl(href: string | undefined, base: string): string | undefined {
  if (!href) return undefined;
  try {
    const u = new URL(href.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Allow-list sanitising for `html`: the text's structure (paragraphs, headings, lists, tables,
 * emphasis), http(s) links and images (lazy `data-src` promoted to `src`), made absolute. Nothing
 * else survives: no scripts, styles, event handlers, iframes, forms or other attributes.
 */
export function sanitizeArticleHtml(html: string, baseUrl: string): string {
  return sanitize(html, {
    allowedTags: [
      'p', 'br', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'strong', 'b', 'em', 'i', 'u', 's', 'sub', 'sup',
      'a', 'img', 'table', 'thead', 'tbody', 'tr', 'td', 'th', 'figure', 'figcaption', 'pre', 'code', 'hr',
    ],
    allowedAttributes: { a: ['href'], img: ['src', 'alt'] },
    allowedSchemes: ['http', 'https'],
    allowProtocolRelative: false,
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'title'],
    transformTags: {
      a: (tagName, attribs) => {
        const href = absoluteHttpUrl(attribs.href, baseUrl);
        const out: Record<string, string> = {};
        if (href) out.href = href;
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const src = absoluteHttpUrl(attribs['data-src'] ?? attribs['data-original'] ?? attribs.src, baseUrl);
        const out: Record<string, string> = {};
        if (src) out.src = src;
        if (attribs.alt) out.alt = attribs.alt;
        return { tagName, attribs: out };
      },
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  }).trim();
}
