/** The chat panel's HTML (pure: the view provider passes the webview URIs in). */

export interface ChatPage {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function chatHtml(page: ChatPage): string {
  const csp = [
    "default-src 'none'",
    `style-src ${page.cspSource}`,
    `script-src 'nonce-${page.nonce}'`,
    `img-src ${page.cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${page.styleUri}">
<title>CodeAssist Chat</title>
</head>
<body>
<header class="toolbar" role="toolbar" aria-label="Chat">
  <button type="button" id="new" aria-label="New conversation">New</button>
  <button type="button" id="history-toggle" aria-expanded="false" aria-controls="history">History</button>
</header>
<section id="history" hidden aria-label="Conversation history">
  <input id="history-search" type="search" placeholder="Search conversations" aria-label="Search conversations">
  <ul id="history-list" aria-label="Conversations"></ul>
</section>
<main id="messages" role="log" aria-live="polite" aria-label="Conversation"></main>
<div id="status" class="visually-hidden" role="status" aria-live="polite"></div>
<footer>
  <div id="context" hidden></div>
  <div class="composer">
    <textarea id="input" rows="3" aria-label="Ask CodeAssist about your code" placeholder="Ask about your code (Enter sends, Shift+Enter adds a line)"></textarea>
    <button type="button" id="send" aria-label="Send the question">Send</button>
    <button type="button" id="cancel" aria-label="Stop the answer (Escape)" hidden>Stop</button>
  </div>
</footer>
<script nonce="${page.nonce}" src="${page.scriptUri}"></script>
</body>
</html>`;
}
