/**
 * The extension side of the chat panel: turns the webview's messages into the server's chat
 * requests and streams the answer back. It knows the server and the editor only through
 * the two small interfaces below, so Node tests drive it without VS Code.
 */

import type {
  ChatPiece,
  ChatResult,
  Citation,
  ConversationSummary,
  FromWebview,
  Range,
  ShownCitation,
  StoredMessage,
  ToWebview,
} from './protocol';

export const CHAT = 'codeassist/chat';
export const CHAT_DELTA = 'codeassist/chatDelta';
export const CHAT_DRAFT = 'codeassist/chatDraft';
/** A draft of fewer words finds sources about nothing yet. */
export const DRAFT_WORDS = 3;
export const CONVERSATIONS = 'codeassist/conversations';
export const CONVERSATION = 'codeassist/conversation';
export const DELETE_CONVERSATION = 'codeassist/deleteConversation';
export const SEARCH_CONVERSATIONS = 'codeassist/searchConversations';
export const FEEDBACK = 'codeassist/feedback';

export interface Disposable {
  dispose(): void;
}

export interface ChatServer {
  request<R>(method: string, params: unknown, signal?: AbortSignal): Promise<R>;
  notify(method: string, params: unknown): void;
  onPartialResult(token: string, handler: (piece: ChatPiece) => void): Disposable;
  onChatDelta(handler: (piece: ChatPiece) => void): Disposable;
}

/** What a question is about: a document and maybe a range in it. */
export interface ChatContext {
  textDocument: { uri: string };
  range?: Range;
  label: string;
}

export interface ChatHost {
  post(message: ToWebview): void;
  label(citation: Citation): string;
  /** The active editor's selection, when there is one and the user gave no other context. */
  activeContext(): ChatContext | undefined;
  openCitation(citation: Citation): void;
  copy(code: string): void;
  insert(code: string): void;
  apply(code: string): void;
  showError(message: string): void;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Normalises the server's search hits (`{conversationId|id, title, ...}`) to summaries. */
export function toSummaries(items: unknown): ConversationSummary[] {
  if (!Array.isArray(items)) return [];
  return items
    .map((raw) => {
      const item = (raw ?? {}) as Record<string, unknown>;
      const message = (item.message ?? {}) as Record<string, unknown>;
      const id = item.id ?? item.conversationId;
      const title = item.title ?? message.content ?? item.content ?? '';
      const summary: ConversationSummary = { id: String(id ?? ''), title: String(title) };
      if (item.updated !== undefined) summary.updated = item.updated as string | number;
      const match = item.content ?? message.content;
      if (typeof match === 'string' && match !== title) summary.match = match;
      return summary;
    })
    .filter((item) => item.id);
}

export class ChatController {
  conversationId: string | undefined;
  private context: ChatContext | undefined;
  private running: AbortController | undefined;
  private nextToken = 0;
  private lastDraft = '';

  constructor(
    private readonly server: ChatServer,
    private readonly host: ChatHost,
  ) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  private shown(citations: Citation[] | undefined): ShownCitation[] {
    return (citations ?? []).map((c) => ({ ...c, label: this.host.label(c) }));
  }

  /** The next question is about this selection (the "Ask CodeAssist about selection" command). */
  setContext(context: ChatContext): void {
    this.context = context;
    this.host.post({ type: 'context', label: context.label });
  }

  async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (this.conversationId) await this.open(this.conversationId);
        if (this.context) this.host.post({ type: 'context', label: this.context.label });
        return;
      case 'send':
        return this.send(message.text);
      case 'draft':
        return this.draft(message.text);
      case 'cancel':
        this.running?.abort();
        return;
      case 'newConversation':
        return this.newConversation();
      case 'listConversations':
        return this.list();
      case 'openConversation':
        return this.open(message.id);
      case 'deleteConversation':
        return this.remove(message.id);
      case 'searchConversations':
        return this.search(message.query);
      case 'feedback':
        return this.quietly(this.server.request(FEEDBACK, { messageId: message.messageId, value: message.value }));
      case 'copy':
        return this.host.copy(message.code);
      case 'insert':
        return this.host.insert(message.code);
      case 'apply':
        return this.host.apply(message.code);
      case 'openCitation':
        return this.host.openCitation(message.citation);
    }
  }

  /**
   * A question being typed, as each word is finished: the server finds its sources and the
   * model reads them while the typing goes on, so the answer starts sooner once it is asked
   * (`codeassist/chatDraft`, a notification: nothing comes back).
   */
  draft(text: string): void {
    const message = text.trim();
    if (this.running || message === this.lastDraft || !/\S\s$/.test(text)) return;
    if (message.split(/\s+/).length < DRAFT_WORDS) return;
    this.lastDraft = message;
    this.server.notify(CHAT_DRAFT, this.questionParams(message, this.context ?? this.host.activeContext()));
  }

  private questionParams(message: string, context: ChatContext | undefined): Record<string, unknown> {
    const params: Record<string, unknown> = { message };
    if (this.conversationId) params.conversationId = this.conversationId;
    if (context) {
      params.textDocument = context.textDocument;
      if (context.range) params.range = context.range;
    }
    return params;
  }

  async send(text: string): Promise<void> {
    const message = text.trim();
    if (!message || this.running) return;
    const context = this.context ?? this.host.activeContext();
    this.context = undefined;
    const abort = new AbortController();
    this.running = abort;
    const token = `codeassist-chat-${Date.now()}-${this.nextToken++}`;
    let sawSources = false;
    const onPiece = (piece: ChatPiece) => {
      if (abort.signal.aborted) return;
      if (piece.citations) {
        sawSources = true;
        this.host.post({ type: 'sources', citations: this.shown(piece.citations), notices: piece.notices ?? [] });
      }
      if (piece.delta) this.host.post({ type: 'delta', text: piece.delta });
    };
    const subscriptions = [this.server.onPartialResult(token, onPiece), this.server.onChatDelta(onPiece)];
    this.host.post({ type: 'userMessage', text: message });
    const params = { ...this.questionParams(message, context), partialResultToken: token };
    this.lastDraft = '';
    try {
      const result = await this.server.request<ChatResult>(CHAT, params, abort.signal);
      this.conversationId = result.conversationId ?? this.conversationId;
      const sources = this.shown(result.sources ?? result.citations);
      const notices = result.notices ?? [];
      if (!sawSources && sources.length) this.host.post({ type: 'sources', citations: sources, notices });
      this.host.post({
        type: 'done',
        conversationId: result.conversationId,
        messageId: result.messageId,
        answer: result.answer ?? '',
        citations: sources,
        notices,
      });
      const modelProblem = notices.find((n) => n.startsWith('the model is not available'));
      if (modelProblem) this.host.showError(modelProblem);
    } catch (error) {
      if (abort.signal.aborted) this.host.post({ type: 'cancelled' });
      else {
        const text = errorMessage(error);
        this.host.post({ type: 'error', message: text });
        this.host.showError(text);
      }
    } finally {
      subscriptions.forEach((s) => s.dispose());
      this.running = undefined;
    }
  }

  newConversation(): void {
    this.running?.abort();
    this.conversationId = undefined;
    this.lastDraft = '';
    this.context = undefined;
    this.host.post({ type: 'cleared' });
  }

  async list(): Promise<void> {
    const items = await this.quietly(this.server.request<unknown>(CONVERSATIONS, {}));
    if (items !== undefined) this.host.post({ type: 'conversations', items: toSummaries(items) });
  }

  async search(query: string): Promise<void> {
    const items = await this.quietly(this.server.request<unknown>(SEARCH_CONVERSATIONS, { query }));
    if (items !== undefined) this.host.post({ type: 'conversations', items: toSummaries(items), query });
  }

  async open(id: string): Promise<void> {
    const conversation = await this.quietly(
      this.server.request<{ id: string; title: string; messages: StoredMessage[] }>(CONVERSATION, {
        conversationId: id,
      }),
    );
    if (!conversation) return;
    this.conversationId = conversation.id ?? id;
    this.host.post({
      type: 'conversation',
      id: this.conversationId,
      title: conversation.title ?? '',
      messages: (conversation.messages ?? []).map((m) => ({
        id: m.id,
        role: m.role,
        content: m.content ?? '',
        citations: this.shown(m.citations),
      })),
    });
  }

  async remove(id: string): Promise<void> {
    await this.quietly(this.server.request(DELETE_CONVERSATION, { conversationId: id }));
    if (id === this.conversationId) this.newConversation();
    await this.list();
  }

  /** A failed history request is shown once and leaves the panel as it was. */
  private async quietly<R>(promise: Promise<R>): Promise<R | undefined> {
    try {
      return await promise;
    } catch (error) {
      this.host.showError(errorMessage(error));
      return undefined;
    }
  }
}
