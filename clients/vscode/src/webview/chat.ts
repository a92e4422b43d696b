/**
 * The chat panel's script, run inside the webview. It only talks to the extension through
 * `postMessage` (no `vscode` import), so tests load the same page in Chromium with a fake
 * `acquireVsCodeApi`.
 */

import type { FromWebview, ShownCitation, ToWebview, ConversationSummary } from '../chat/protocol';
import { renderMarkdown, Rendered } from './markdown';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };

const vscode = acquireVsCodeApi();
const post = (message: FromWebview) => vscode.postMessage(message);

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`chat panel: #${id} is missing`);
  return el as T;
}

const messages = byId<HTMLElement>('messages');
const input = byId<HTMLTextAreaElement>('input');
const sendButton = byId<HTMLButtonElement>('send');
const cancelButton = byId<HTMLButtonElement>('cancel');
const history = byId<HTMLElement>('history');
const historyToggle = byId<HTMLButtonElement>('history-toggle');
const historySearch = byId<HTMLInputElement>('history-search');
const historyList = byId<HTMLElement>('history-list');
const contextLabel = byId<HTMLElement>('context');
const status = byId<HTMLElement>('status');

interface Shown {
  citations: ShownCitation[];
  rendered: Rendered;
}

/** Thumbs drawn in SVG: emoji fonts are not everywhere. */
const THUMB_UP =
  '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true"><path fill="currentColor" d="M2 7h2v7H2zM5 14V7l3-5c1 0 2 .8 1.7 2L9 6h4.3c.9 0 1.5.8 1.3 1.6l-1.3 5.3c-.2.7-.8 1.1-1.5 1.1z"/></svg>';
const THUMB_DOWN =
  '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true"><path fill="currentColor" d="M2 2h2v7H2zM5 2v7l3 5c1 0 2-.8 1.7-2L9 10h4.3c.9 0 1.5-.8 1.3-1.6l-1.3-5.3C13.1 2.4 12.5 2 11.8 2z"/></svg>';

const shown = new WeakMap<HTMLElement, Shown>();
let streaming: { article: HTMLElement; text: string } | null = null;

function setBusy(busy: boolean): void {
  sendButton.hidden = busy;
  cancelButton.hidden = !busy;
  input.setAttribute('aria-busy', String(busy));
  if (!busy && document.activeElement === cancelButton) input.focus();
}

function announce(text: string): void {
  status.textContent = text;
}

function article(role: 'user' | 'assistant'): HTMLElement {
  const el = document.createElement('article');
  el.className = `message ${role}`;
  el.setAttribute('aria-label', role === 'user' ? 'You' : 'CodeAssist');
  const content = document.createElement('div');
  content.className = 'content';
  el.appendChild(content);
  messages.appendChild(el);
  shown.set(el, { citations: [], rendered: { html: '', blocks: [] } });
  el.scrollIntoView({ block: 'end' });
  return el;
}

function showSources(el: HTMLElement, citations: ShownCitation[]): void {
  const state = shown.get(el)!;
  state.citations = citations;
  el.querySelector('.sources')?.remove();
  if (!citations.length) return;
  const box = document.createElement('div');
  box.className = 'sources';
  box.setAttribute('role', 'list');
  box.setAttribute('aria-label', `Sources (${citations.length})`);
  citations.forEach((citation, i) => {
    const link = document.createElement('a');
    link.href = '#';
    link.className = 'source';
    link.dataset.citation = String(i);
    link.setAttribute('role', 'listitem');
    link.title = citation.symbol ? `${citation.symbol} — ${citation.label}` : citation.label;
    link.textContent = `[${i + 1}] ${citation.label}`;
    box.appendChild(link);
  });
  el.insertBefore(box, el.querySelector('.content'));
}

function showNotices(el: HTMLElement, notices: string[]): void {
  el.querySelector('.notices')?.remove();
  if (!notices.length) return;
  const box = document.createElement('div');
  box.className = 'notices';
  box.setAttribute('role', 'note');
  box.textContent = notices.join(' · ');
  el.insertBefore(box, el.querySelector('.content'));
}

function showText(el: HTMLElement, text: string): void {
  const state = shown.get(el)!;
  state.rendered = renderMarkdown(text, state.citations.length);
  el.querySelector('.content')!.innerHTML = state.rendered.html;
}

function addFeedback(el: HTMLElement, messageId: string): void {
  const group = document.createElement('div');
  group.className = 'feedback';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', 'Was this answer helpful?');
  for (const [value, label, icon] of [
    [1, 'Helpful', THUMB_UP],
    [-1, 'Not helpful', THUMB_DOWN],
  ] as const) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb';
    button.dataset.value = String(value);
    button.setAttribute('aria-label', label);
    button.setAttribute('aria-pressed', 'false');
    button.innerHTML = icon;
    button.addEventListener('click', () => {
      const pressed = button.getAttribute('aria-pressed') === 'true';
      group.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', 'false'));
      button.setAttribute('aria-pressed', String(!pressed));
      post({ type: 'feedback', messageId, value: pressed ? 0 : value });
      announce(pressed ? 'Feedback removed' : `Marked as ${label.toLowerCase()}`);
    });
    group.appendChild(button);
  }
  el.appendChild(group);
}

function showConversations(items: ConversationSummary[], query?: string): void {
  historyList.replaceChildren();
  if (!items.length) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = query ? `No conversation matches “${query}”.` : 'No conversations yet.';
    historyList.appendChild(empty);
    return;
  }
  for (const item of items) {
    const li = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'history-open';
    open.textContent = item.title || 'Untitled';
    open.setAttribute('aria-label', `Open conversation: ${item.title || 'Untitled'}`);
    open.addEventListener('click', () => post({ type: 'openConversation', id: item.id }));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'history-delete';
    remove.textContent = '\u2715';
    remove.setAttribute('aria-label', `Delete conversation: ${item.title || 'Untitled'}`);
    remove.addEventListener('click', () => post({ type: 'deleteConversation', id: item.id }));
    if (item.match) {
      const match = document.createElement('span');
      match.className = 'history-match';
      match.textContent = item.match.length > 120 ? `${item.match.slice(0, 120)}…` : item.match;
      open.appendChild(match);
    }
    li.append(open, remove);
    historyList.appendChild(li);
  }
}

function setHistoryOpen(open: boolean): void {
  history.hidden = !open;
  historyToggle.setAttribute('aria-expanded', String(open));
  if (open) {
    post({ type: 'listConversations' });
    historySearch.focus();
  }
}

function send(): void {
  const text = input.value.trim();
  if (!text || !cancelButton.hidden) return;
  input.value = '';
  post({ type: 'send', text });
}

function handle(message: ToWebview): void {
  switch (message.type) {
    case 'userMessage': {
      contextLabel.hidden = true;
      const el = article('user');
      showText(el, message.text);
      streaming = { article: article('assistant'), text: '' };
      streaming.article.classList.add('pending');
      streaming.article.querySelector('.content')!.textContent = 'Looking for sources…';
      setBusy(true);
      break;
    }
    case 'sources':
      if (streaming) {
        showSources(streaming.article, message.citations);
        showNotices(streaming.article, message.notices ?? []);
        if (!streaming.text) streaming.article.querySelector('.content')!.textContent = 'Reading them…';
        announce(`${message.citations.length} sources found`);
      }
      break;
    case 'delta':
      if (streaming) {
        streaming.text += message.text;
        showText(streaming.article, streaming.text);
      }
      break;
    case 'done': {
      const el = streaming?.article ?? article('assistant');
      el.classList.remove('pending');
      el.dataset.messageId = message.messageId;
      showSources(el, message.citations);
      showNotices(el, message.notices ?? []);
      showText(el, message.answer);
      addFeedback(el, message.messageId);
      streaming = null;
      setBusy(false);
      announce('Answer complete');
      break;
    }
    case 'cancelled':
      if (streaming) {
        streaming.article.classList.remove('pending');
        streaming.article.classList.add('cancelled');
        if (!streaming.text) streaming.article.querySelector('.content')!.textContent = 'Stopped.';
      }
      streaming = null;
      setBusy(false);
      announce('Stopped');
      break;
    case 'error': {
      const el = streaming?.article ?? article('assistant');
      el.classList.remove('pending');
      el.classList.add('error');
      el.setAttribute('role', 'alert');
      el.querySelector('.content')!.textContent = message.message;
      streaming = null;
      setBusy(false);
      break;
    }
    case 'busy':
      setBusy(message.busy);
      break;
    case 'cleared':
      messages.replaceChildren();
      streaming = null;
      contextLabel.hidden = true;
      setBusy(false);
      input.focus();
      break;
    case 'conversation':
      messages.replaceChildren();
      streaming = null;
      for (const m of message.messages) {
        const el = article(m.role === 'user' ? 'user' : 'assistant');
        showSources(el, m.citations);
        showText(el, m.content);
        if (m.role !== 'user') addFeedback(el, m.id);
      }
      setHistoryOpen(false);
      announce(`Opened ${message.title}`);
      input.focus();
      break;
    case 'conversations':
      showConversations(message.items, message.query);
      break;
    case 'context':
      contextLabel.textContent = `About: ${message.label}`;
      contextLabel.hidden = false;
      input.focus();
      break;
    case 'focusInput':
      input.focus();
      break;
  }
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => handle(event.data));

messages.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest<HTMLElement>('[data-action], [data-citation]');
  const el = target?.closest<HTMLElement>('article.message');
  const state = el && shown.get(el);
  if (!target || !state) return;
  event.preventDefault();
  if (target.dataset.citation !== undefined) {
    const citation = state.citations[Number(target.dataset.citation)];
    if (citation) post({ type: 'openCitation', citation });
    return;
  }
  const block = state.rendered.blocks[Number(target.dataset.block)];
  const action = target.dataset.action;
  if (!block) return;
  if (action === 'copy') {
    post({ type: 'copy', code: block.code });
    announce('Copied');
  } else if (action === 'insert') post({ type: 'insert', code: block.code });
  else if (action === 'apply') post({ type: 'apply', code: block.code });
});

input.addEventListener('input', () => {
  // a word was just finished: the extension may let the server read the question ahead
  if (/\S\s$/.test(input.value)) post({ type: 'draft', text: input.value });
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !cancelButton.hidden) {
    event.preventDefault();
    post({ type: 'cancel' });
  }
});
sendButton.addEventListener('click', send);
cancelButton.addEventListener('click', () => post({ type: 'cancel' }));
byId<HTMLButtonElement>('new').addEventListener('click', () => post({ type: 'newConversation' }));
historyToggle.addEventListener('click', () => setHistoryOpen(history.hidden));
let searchTimer: ReturnType<typeof setTimeout> | undefined;
historySearch.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const query = historySearch.value.trim();
    post(query ? { type: 'searchConversations', query } : { type: 'listConversations' });
  }, 200);
});
historySearch.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    event.stopPropagation();
    setHistoryOpen(false);
    historyToggle.focus();
  }
});

post({ type: 'ready' });
