// The chat controller against a scripted server, the Markdown renderer, the citation labels
// and the code action middleware, all with the stub `vscode` module.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { load, vscode } = require('./helpers');

const { ChatController, toSummaries } = load('chat/chatController.js');
const { renderMarkdown, escapeHtml } = load('webview/markdown.js');
const { citationLabel, editorContext } = load('chat/chatView.js');
const { codeActionMiddleware } = load('codeActions.js');
const { protocolInlineContext } = load('inlineCompletion.js');

const citation = (uri, line) => ({ uri, range: { start: { line, character: 0 }, end: { line: line + 2, character: 0 } } });

/** A server whose chat streams through the given channel ('progress' or 'notification'). */
function scriptedServer({ channel = 'progress', pieces = [], result, fail, waitForAbort = false } = {}) {
  const requests = [];
  const notified = [];
  const partial = new Map();
  const deltas = new Set();
  return {
    requests,
    notified,
    notify(method, params) {
      notified.push({ method, params });
    },
    listeners: () => partial.size + deltas.size,
    async request(method, params, signal) {
      requests.push({ method, params });
      if (method !== 'codeassist/chat') return result?.[method];
      for (const piece of pieces) {
        if (channel === 'progress') partial.get(params.partialResultToken)?.(piece);
        else deltas.forEach((handler) => handler(piece));
      }
      if (waitForAbort) {
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled'))));
      }
      if (fail) throw new Error(fail);
      return result.chat;
    },
    onPartialResult(token, handler) {
      partial.set(token, handler);
      return { dispose: () => partial.delete(token) };
    },
    onChatDelta(handler) {
      deltas.add(handler);
      return { dispose: () => deltas.delete(handler) };
    },
  };
}

function recordingHost() {
  const posted = [];
  const errors = [];
  return {
    posted,
    errors,
    post: (m) => posted.push(m),
    label: (c) => `${c.uri.split('/').pop()}:${c.range.start.line + 1}`,
    activeContext: () => ({ textDocument: { uri: 'file:///ws/a.py' }, label: 'a.py' }),
    openCitation: (c) => posted.push({ type: 'opened', c }),
    copy: () => {},
    insert: () => {},
    apply: () => {},
    showError: (m) => errors.push(m),
  };
}

const answer = {
  chat: {
    conversationId: 'c1',
    messageId: 'm2',
    answer: 'It retries [1].',
    citations: [citation('file:///ws/retry.py', 49)],
    usage: {},
  },
};

for (const channel of ['progress', 'notification']) {
  test(`a chat shows the sources first, then the answer as it streams (${channel})`, async () => {
    const server = scriptedServer({
      channel,
      pieces: [{ citations: [citation('file:///ws/retry.py', 49)] }, { delta: 'It retries' }, { delta: ' [1].' }],
      result: answer,
    });
    const host = recordingHost();
    const chat = new ChatController(server, host);
    await chat.handle({ type: 'send', text: '  how does it retry?  ' });
    assert.deepStrictEqual(host.posted.map((m) => m.type), ['userMessage', 'sources', 'delta', 'delta', 'done']);
    assert.deepStrictEqual(host.posted[1].citations[0].label, 'retry.py:50');
    assert.strictEqual(host.posted[4].answer, 'It retries [1].');
    const params = server.requests[0].params;
    assert.strictEqual(params.message, 'how does it retry?');
    assert.ok(params.partialResultToken);
    assert.deepStrictEqual(params.textDocument, { uri: 'file:///ws/a.py' });
    assert.strictEqual(params.conversationId, undefined);
    assert.strictEqual(chat.conversationId, 'c1');
    assert.strictEqual(server.listeners(), 0, 'stream listeners are removed');
    await chat.handle({ type: 'send', text: 'and where is it called?' });
    assert.strictEqual(server.requests[1].params.conversationId, 'c1', 'a follow-up continues the conversation');
  });
}

test('cancel aborts the request and the panel says it stopped', async () => {
  const server = scriptedServer({ pieces: [{ delta: 'Partial' }], waitForAbort: true, result: answer });
  const host = recordingHost();
  const chat = new ChatController(server, host);
  const running = chat.handle({ type: 'send', text: 'explain' });
  await new Promise((r) => setImmediate(r));
  assert.ok(chat.busy);
  await chat.handle({ type: 'send', text: 'a second question while busy is ignored' });
  await chat.handle({ type: 'cancel' });
  await running;
  assert.deepStrictEqual(host.posted.map((m) => m.type), ['userMessage', 'delta', 'cancelled']);
  assert.deepStrictEqual(host.errors, []);
  assert.strictEqual(server.requests.length, 1);
  assert.ok(!chat.busy);
});

test('the answer keeps every source for its [n] marks; a missing model is a notification with the fix', async () => {
  const sources = [citation('file:///ws/a.py', 0), citation('file:///ws/b.py', 5)];
  const notice = 'the model is not available (model x is not installed: run `codeassist models install x`); these are the sources';
  const server = scriptedServer({
    pieces: [{ citations: sources, notices: ['indexing is still running'] }],
    result: { chat: { ...answer.chat, answer: 'See [2].', citations: [sources[1]], sources, notices: [notice] } },
  });
  const host = recordingHost();
  await new ChatController(server, host).send('q');
  const done = host.posted.at(-1);
  assert.deepStrictEqual(done.citations.map((c) => c.label), ['a.py:1', 'b.py:6']);
  assert.deepStrictEqual(done.notices, [notice]);
  assert.deepStrictEqual(host.posted[1].notices, ['indexing is still running']);
  assert.deepStrictEqual(host.errors, [notice]);
});

test('a server error is shown in the panel and as a notification', async () => {
  const server = scriptedServer({ fail: 'model qwen is not installed: run `codeassist models install`', result: answer });
  const host = recordingHost();
  await new ChatController(server, host).handle({ type: 'send', text: 'hi' });
  assert.deepStrictEqual(host.posted.map((m) => m.type), ['userMessage', 'error']);
  assert.match(host.errors[0], /not installed/);
});

test('a question being typed goes to the server as each word from the third is finished', async () => {
  const server = scriptedServer({ result: answer });
  const chat = new ChatController(server, recordingHost());
  for (const text of ['How ', 'How does ', 'How does the ', 'How does the ', 'How does the cl']) {
    await chat.handle({ type: 'draft', text });
  }
  assert.deepStrictEqual(server.notified, [
    { method: 'codeassist/chatDraft', params: { message: 'How does the', textDocument: { uri: 'file:///ws/a.py' } } },
  ]);
  await chat.send('How does the client retry?');
  await chat.handle({ type: 'draft', text: 'And where is ' });
  assert.deepStrictEqual(server.notified.at(-1).params.conversationId, 'c1', 'a follow-up draft is in its conversation');
  assert.strictEqual(server.notified.length, 2);
});

test('the selection given by "Ask about selection" goes with the next question only', async () => {
  const server = scriptedServer({ result: answer });
  const host = recordingHost();
  const chat = new ChatController(server, host);
  const range = { start: { line: 1, character: 0 }, end: { line: 3, character: 0 } };
  chat.setContext({ textDocument: { uri: 'file:///ws/b.py' }, range, label: 'b.py:2-4' });
  assert.deepStrictEqual(host.posted.at(-1), { type: 'context', label: 'b.py:2-4' });
  await chat.send('what is this?');
  assert.deepStrictEqual(server.requests[0].params.range, range);
  await chat.send('next');
  assert.strictEqual(server.requests[1].params.range, undefined);
});

test('history: list, search, open, delete, new and feedback use the server contract', async () => {
  const server = scriptedServer({
    result: {
      'codeassist/conversations': [{ id: 'c1', title: 'Retries', updated: '2026-01-01' }],
      'codeassist/searchConversations': [
        { conversationId: 'c2', title: 'Auth', messageId: 'm9', role: 'user', content: 'token refresh', score: 0.5 },
      ],
      'codeassist/conversation': {
        id: 'c1',
        title: 'Retries',
        messages: [
          { id: 'm1', role: 'user', content: 'how?', citations: [] },
          { id: 'm2', role: 'assistant', content: 'Like this [1].', citations: [citation('file:///ws/retry.py', 0)] },
        ],
      },
    },
  });
  const host = recordingHost();
  const chat = new ChatController(server, host);
  await chat.handle({ type: 'listConversations' });
  await chat.handle({ type: 'searchConversations', query: 'auth' });
  await chat.handle({ type: 'openConversation', id: 'c1' });
  assert.strictEqual(chat.conversationId, 'c1');
  await chat.handle({ type: 'feedback', messageId: 'm2', value: 1 });
  await chat.handle({ type: 'deleteConversation', id: 'c1' });
  assert.strictEqual(chat.conversationId, undefined);
  assert.deepStrictEqual(
    server.requests.map((r) => [r.method, r.params]),
    [
      ['codeassist/conversations', {}],
      ['codeassist/searchConversations', { query: 'auth' }],
      ['codeassist/conversation', { conversationId: 'c1' }],
      ['codeassist/feedback', { messageId: 'm2', value: 1 }],
      ['codeassist/deleteConversation', { conversationId: 'c1' }],
      ['codeassist/conversations', {}],
    ],
  );
  const types = host.posted.map((m) => m.type);
  assert.deepStrictEqual(types, ['conversations', 'conversations', 'conversation', 'cleared', 'conversations']);
  assert.deepStrictEqual(host.posted[1].items, [{ id: 'c2', title: 'Auth', match: 'token refresh' }]);
  assert.strictEqual(host.posted[2].messages[1].citations[0].label, 'retry.py:1');
  assert.deepStrictEqual(toSummaries(null), []);
});

test('markdown: text is escaped, code blocks get actions, [n] links only to real sources', () => {
  const md = 'See **this** <script>x</script> and `a<b` [1] [7]\n\n```python\ndef f():\n    return "x" # c\n```\n- one\n- two';
  const { html, blocks } = renderMarkdown(md, 1);
  assert.ok(!html.includes('<script>'));
  assert.ok(html.includes('&lt;script&gt;'));
  assert.ok(html.includes('<strong>this</strong>'));
  assert.ok(html.includes('<code>a&lt;b</code>'));
  assert.ok(html.includes('data-citation="0"'));
  assert.ok(html.includes('[7]') && !html.includes('data-citation="6"'));
  assert.deepStrictEqual(blocks, [{ code: 'def f():\n    return "x" # c', language: 'python' }]);
  assert.ok(html.includes('<span class="tok-keyword">def</span>'));
  assert.ok(html.includes('<span class="tok-comment"># c</span>'));
  assert.ok(/aria-label="Apply code block 1 as a diff"/.test(html));
  assert.ok(html.includes('<ul><li>one</li><li>two</li></ul>'));
  assert.strictEqual(escapeHtml(`"'&`), '&quot;&#39;&amp;');
});

test('markdown: an unclosed fence while streaming is already a code block', () => {
  const { blocks } = renderMarkdown('Try:\n```js\nconst a = 1;', 0);
  assert.deepStrictEqual(blocks, [{ code: 'const a = 1;', language: 'js' }]);
});

test('citations are labelled by workspace-relative path and 1-based lines', () => {
  assert.strictEqual(citationLabel(citation('file:///ws/pkg/a.py', 9)), 'pkg/a.py:10-12');
  const editor = {
    document: { uri: vscode.Uri.file('/ws/pkg/a.py') },
    selection: new vscode.Selection(new vscode.Position(4, 0), new vscode.Position(6, 3)),
  };
  assert.deepStrictEqual(editorContext(editor, true), {
    textDocument: { uri: 'file:///ws/pkg/a.py' },
    range: { start: { line: 4, character: 0 }, end: { line: 6, character: 3 } },
    label: 'pkg/a.py:5-7',
  });
  assert.deepStrictEqual(editorContext(editor, false), { textDocument: { uri: 'file:///ws/pkg/a.py' }, label: 'pkg/a.py' });
});

test('Fix and Improve become diff-previewing commands; Explain goes to chat; others pass', async () => {
  const fix = new vscode.CodeAction('Fix this code', vscode.CodeActionKind.QuickFix);
  const explain = new vscode.CodeAction('Explain this code', new vscode.CodeActionKind('refactor.codeassist.explain'));
  const other = new vscode.CodeAction('Organize', new vscode.CodeActionKind('source.organizeImports'));
  const withEdit = new vscode.CodeAction('Fix with edit', vscode.CodeActionKind.QuickFix);
  withEdit.edit = {};
  const client = { code2ProtocolConverter: { asCodeActionSync: (item) => ({ title: item.title, kind: item.kind.value, data: 1 }) } };
  const middleware = codeActionMiddleware(() => client);
  const document = { uri: vscode.Uri.file('/ws/a.py') };
  const range = new vscode.Range(0, 0, 1, 0);
  const items = await middleware.provideCodeActions(document, range, {}, {}, async () => [fix, explain, other, withEdit]);
  assert.strictEqual(items[0].command.command, 'codeassist.previewRewrite');
  assert.deepStrictEqual(items[0].command.arguments.slice(1), [{ title: 'Fix this code', kind: 'quickfix', data: 1 }, 'fix']);
  assert.strictEqual(items[1].command.command, 'codeassist.explainRange');
  assert.strictEqual(items[2], other);
  assert.strictEqual(items[3], withEdit);
  let resolvedByServer = 0;
  const next = async (item) => {
    resolvedByServer++;
    return item;
  };
  assert.strictEqual(await middleware.resolveCodeAction(items[0], {}, next), items[0]);
  assert.strictEqual(resolvedByServer, 0, 'a swapped action is not resolved (VS Code would apply its edit at once)');
  await middleware.resolveCodeAction(other, {}, next);
  assert.strictEqual(resolvedByServer, 1);
});

test('inline completion contexts are sent with LSP trigger kinds and plain ranges', () => {
  assert.deepStrictEqual(protocolInlineContext({ triggerKind: 0 }), { triggerKind: 1, selectedCompletionInfo: undefined });
  const range = new vscode.Range(2, 4, 2, 9);
  const context = protocolInlineContext({ triggerKind: 1, selectedCompletionInfo: { range, text: 'items' } });
  assert.strictEqual(context.triggerKind, 2);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(context.selectedCompletionInfo)), {
    range: { start: { line: 2, character: 4 }, end: { line: 2, character: 9 } },
    text: 'items',
  });
});
