/**
 * A small, safe Markdown renderer for chat answers: everything is escaped first, then only
 * the constructs a model writes are turned into tags (fenced code, headings, lists,
 * paragraphs, inline code, bold, italics, links, `[n]` citations). It renders partial text
 * too, so a streamed answer can be re-rendered after each piece (an unclosed fence is a
 * code block until it closes). No DOM and no `vscode` import: Node tests load it as is.
 */

export interface Rendered {
  html: string;
  /** The text of each code block, by the index in its `data-block` attribute. */
  blocks: { code: string; language: string }[];
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const KEYWORDS = new Set(
  (
    'def class return if elif else for while in not and or is import from as with try except ' +
    'finally raise yield lambda pass break continue async await None True False self function ' +
    'const let var new this typeof instanceof export default interface type enum extends ' +
    'implements public private protected static fn pub impl struct trait match mut use mod ' +
    'func package go defer chan map range switch case null undefined true false void int ' +
    'string bool float double char long'
  ).split(' '),
);

const TOKEN =
  /(#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`|\b\d[\d_.]*(?:e[+-]?\d+)?\b|\b[A-Za-z_][A-Za-z0-9_]*\b)/g;

/** Wraps comments, strings, numbers and keywords in spans (theme colours come from CSS). */
export function highlight(code: string, language: string): string {
  const hashComments = /^(py|python|sh|bash|shell|rb|ruby|yaml|yml|toml|r|perl)$/i.test(language);
  let out = '';
  let last = 0;
  for (const match of code.matchAll(TOKEN)) {
    const token = match[0];
    const start = match.index ?? 0;
    out += escapeHtml(code.slice(last, start));
    last = start + token.length;
    let cls = '';
    if (token.startsWith('#')) cls = hashComments ? 'tok-comment' : '';
    else if (token.startsWith('//') || token.startsWith('/*')) cls = 'tok-comment';
    else if (/^["'`]/.test(token)) cls = 'tok-string';
    else if (/^\d/.test(token)) cls = 'tok-number';
    else if (KEYWORDS.has(token)) cls = 'tok-keyword';
    out += cls ? `<span class="${cls}">${escapeHtml(token)}</span>` : escapeHtml(token);
  }
  return out + escapeHtml(code.slice(last));
}

function inline(text: string, citations: number): string {
  const codeSpans: string[] = [];
  let s = text.replace(/`([^`\n]+)`/g, (_m, code: string) => {
    codeSpans.push(`<code>${escapeHtml(code)}</code>`);
    return `\u0000${codeSpans.length - 1}\u0000`;
  });
  s = escapeHtml(s);
  s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, label: string, url: string) => {
    return `<a href="${url}" class="external">${label}</a>`;
  });
  s = s.replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>');
  s = s.replace(/(^|[\s(])\*([^*\n]+)\*(?=[\s).,;:!?]|$)/g, '$1<em>$2</em>');
  s = s.replace(/(^|[\s(])_([^_\n]+)_(?=[\s).,;:!?]|$)/g, '$1<em>$2</em>');
  s = s.replace(/\[(\d{1,3})\]/g, (whole, n: string) => {
    const index = Number(n);
    if (index < 1 || index > citations) return whole;
    return `<a href="#" class="cite" data-citation="${index - 1}" aria-label="source ${index}">[${index}]</a>`;
  });
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codeSpans[Number(i)]);
}

/** Renders `text`; `citations` is how many sources the answer may cite as `[n]`. */
export function renderMarkdown(text: string, citations = 0): Rendered {
  const blocks: Rendered['blocks'] = [];
  const html: string[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  let list: { tag: 'ul' | 'ol'; items: string[] } | null = null;

  const flushParagraph = () => {
    if (paragraph.length) html.push(`<p>${inline(paragraph.join('\n'), citations).replace(/\n/g, '<br>')}</p>`);
    paragraph = [];
  };
  const flushList = () => {
    if (list) html.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i, citations)}</li>`).join('')}</${list.tag}>`);
    list = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s*(`{3,}|~{3,})\s*([\w+#.-]*)/.exec(line);
    if (fence) {
      flushParagraph();
      flushList();
      const marker = fence[1];
      const language = fence[2] ?? '';
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(marker)) body.push(lines[i++]);
      const code = body.join('\n');
      const index = blocks.push({ code, language }) - 1;
      const label = language ? escapeHtml(language) : 'code';
      html.push(
        `<div class="code-block" data-block="${index}">` +
          `<div class="code-toolbar" role="toolbar" aria-label="${label} code block ${index + 1}">` +
          `<span class="code-lang">${label}</span>` +
          `<button type="button" class="code-action" data-action="copy" data-block="${index}" aria-label="Copy code block ${index + 1}">Copy</button>` +
          `<button type="button" class="code-action" data-action="insert" data-block="${index}" aria-label="Insert code block ${index + 1} at the cursor">Insert</button>` +
          `<button type="button" class="code-action" data-action="apply" data-block="${index}" aria-label="Apply code block ${index + 1} as a diff">Apply as diff</button>` +
          `</div><pre><code class="language-${label}">${highlight(code, language)}</code></pre></div>`,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flushParagraph();
      flushList();
      const level = Math.min(heading[1].length + 2, 6);
      html.push(`<h${level}>${inline(heading[2], citations)}</h${level}>`);
      continue;
    }
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (bullet || numbered) {
      flushParagraph();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tag !== tag) {
        flushList();
        list = { tag, items: [] };
      }
      list.items.push((bullet ?? numbered)![1]);
      continue;
    }
    if (!line.trim()) {
      flushParagraph();
      flushList();
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      list.items[list.items.length - 1] += ' ' + line.trim();
      continue;
    }
    flushList();
    paragraph.push(line);
  }
  flushParagraph();
  flushList();
  return { html: html.join('\n'), blocks };
}
