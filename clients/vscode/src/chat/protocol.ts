/**
 * The chat panel's messages between the extension and its webview, and the server's chat
 * types (issue 16's contract). No `vscode` import: the webview bundle includes this file.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Citation {
  uri: string;
  range: Range;
  symbol?: string | null;
}

/** A citation as the panel shows it: the extension adds a workspace-relative label. */
export interface ShownCitation extends Citation {
  label: string;
}

export interface ConversationSummary {
  id: string;
  title: string;
  updated?: string | number;
  /** The message that matched a history search. */
  match?: string;
}

export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant' | string;
  content: string;
  citations?: Citation[];
}

export interface ChatResult {
  conversationId: string;
  messageId: string;
  answer: string;
  /** The places the answer cites. */
  citations: Citation[];
  /** Every source given to the model, in the order its `[n]` marks count. */
  sources?: Citation[];
  usage?: Record<string, number>;
  /** What the user should know about this answer (indexing still running, no model…). */
  notices?: string[];
}

/** One streamed piece: sources first (`citations`), then pieces of the answer (`delta`). */
export interface ChatPiece {
  conversationId?: string;
  messageId?: string;
  delta?: string;
  citations?: Citation[];
  notices?: string[];
}

export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'draft'; text: string }
  | { type: 'cancel' }
  | { type: 'newConversation' }
  | { type: 'listConversations' }
  | { type: 'openConversation'; id: string }
  | { type: 'deleteConversation'; id: string }
  | { type: 'searchConversations'; query: string }
  | { type: 'feedback'; messageId: string; value: -1 | 0 | 1 }
  | { type: 'copy'; code: string }
  | { type: 'insert'; code: string }
  | { type: 'apply'; code: string }
  | { type: 'openCitation'; citation: Citation };

export type ToWebview =
  | { type: 'conversations'; items: ConversationSummary[]; query?: string }
  | {
      type: 'conversation';
      id: string;
      title: string;
      messages: { id: string; role: string; content: string; citations: ShownCitation[] }[];
    }
  | { type: 'cleared' }
  | { type: 'context'; label: string }
  | { type: 'userMessage'; text: string }
  | { type: 'sources'; citations: ShownCitation[]; notices: string[] }
  | { type: 'delta'; text: string }
  | {
      type: 'done';
      conversationId: string;
      messageId: string;
      answer: string;
      citations: ShownCitation[];
      notices: string[];
    }
  | { type: 'cancelled' }
  | { type: 'error'; message: string }
  | { type: 'busy'; busy: boolean }
  | { type: 'focusInput' };
