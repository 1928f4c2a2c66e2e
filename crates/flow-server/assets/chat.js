// The web chat of a public flowbot bot. It speaks the public endpoints of docs/api.md: a start
// that makes the conversation id, messages with an id of their own (a retried send is answered
// from the server's record, never run twice), and a long poll of the outputs endpoint for what
// timers produce. The conversation id, the last seen `seq` and the transcript are kept in
// localStorage, so a reload resumes the conversation.
//
// The chat page mounts it into the page; the widget mounts it into a shadow root on another
// site. Text from the bot and the user is only ever set as text, never as HTML.

/** Seconds a long poll is held by the server. */
const POLL_WAIT = 25;
/** The most transcript entries kept in storage. */
const MAX_ENTRIES = 300;
/** The longest wait between retries, in milliseconds. */
const MAX_BACKOFF = 30_000;

/**
 * Shows the chat of `bot` in `root`, talking to the flowbot server at `base`.
 * `heading` is the tag of its title; `onClose`, when given, adds a close button.
 */
export function mountChat(root, { base, bot, heading = "h2", onClose } = {}) {
  const chat = new Chat(root, { base, bot, heading, onClose });
  chat.start();
  return chat;
}

function fresh() {
  return { conversation: null, after: 0, status: null, options: [], entries: [], pending: null };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A message id: 128 random bits in hex (crypto.randomUUID needs a secure context). */
function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** localStorage, or a stand-in in memory where the browser refuses it. */
function storage() {
  try {
    const probe = "flowbot:probe";
    window.localStorage.setItem(probe, "1");
    window.localStorage.removeItem(probe);
    return window.localStorage;
  } catch {
    const kept = new Map();
    return {
      getItem: (key) => kept.get(key) ?? null,
      setItem: (key, value) => kept.set(key, value),
      removeItem: (key) => kept.delete(key),
    };
  }
}

/** The contract's error body of a refused request, or a stand-in. */
async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch {
    // Not JSON: a proxy's page, perhaps.
  }
  return { code: `http_${response.status}`, message: `the server answered ${response.status}` };
}

/** Milliseconds a 429 or 503 asks to wait, from its Retry-After. */
function retryAfter(response, otherwise) {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : otherwise;
}

const CLOSED = new Set(["ended", "handed_off"]);

class Chat {
  constructor(root, { base, bot, heading, onClose }) {
    this.root = root;
    this.bot = bot;
    this.api = new URL(`public/v1/bots/${encodeURIComponent(bot)}/conversations`, base).href;
    this.storage = storage();
    this.key = `flowbot:chat:${new URL(base).href}:${bot}`;
    this.state = this.load();
    this.problem = null;
    this.stopped = false;
    this.poller = null;
    this.wakePoll = () => {};
    this.build(heading, onClose);
    window.addEventListener("pagehide", () => this.stop());
    window.addEventListener("pageshow", (event) => {
      if (event.persisted && this.stopped) {
        this.stopped = false;
        this.poll();
      }
    });
  }

  load() {
    try {
      const saved = JSON.parse(this.storage.getItem(this.key) ?? "null");
      if (saved && typeof saved.conversation === "string" && Array.isArray(saved.entries)) {
        return { ...fresh(), ...saved };
      }
    } catch {
      // A damaged record: start afresh.
    }
    return fresh();
  }

  save() {
    this.state.entries = this.state.entries.slice(-MAX_ENTRIES);
    try {
      this.storage.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // Storage full or refused: the chat goes on without resuming after a reload.
    }
  }

  build(heading, onClose) {
    const uid = newId().slice(0, 8);
    this.root.classList.add("fb-chat");
    this.root.replaceChildren();
    const header = element("header", "fb-header");
    const title = element(heading, "fb-title", this.bot);
    title.id = `fb-title-${uid}`;
    header.append(title);
    if (onClose) {
      const close = element("button", "fb-close", "\u00d7");
      close.type = "button";
      close.setAttribute("aria-label", "Close the chat");
      close.addEventListener("click", onClose);
      header.append(close);
    }
    this.log = element("ol", "fb-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", "Conversation");
    this.log.tabIndex = 0;
    this.choices = element("div", "fb-options");
    this.choices.setAttribute("role", "group");
    this.choices.setAttribute("aria-label", "Choices");
    this.statusLine = element("p", "fb-status");
    this.statusLine.setAttribute("role", "status");
    this.form = element("form", "fb-form");
    const label = element("label", "fb-hidden", "Your message");
    label.htmlFor = `fb-input-${uid}`;
    this.input = element("input", "fb-input");
    this.input.id = label.htmlFor;
    this.input.type = "text";
    this.input.autocomplete = "off";
    this.input.maxLength = 4096;
    this.input.placeholder = "Type a message";
    this.sendButton = element("button", "fb-send", "Send");
    this.sendButton.type = "submit";
    this.form.append(label, this.input, this.sendButton);
    this.restartButton = element("button", "fb-restart", "Start a new conversation");
    this.restartButton.type = "button";
    this.restartButton.hidden = true;
    if (!this.root.hasAttribute("aria-label")) this.root.setAttribute("aria-labelledby", title.id);
    this.root.append(header, this.log, this.choices, this.statusLine, this.form, this.restartButton);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text || this.state.pending || !this.state.conversation) return;
      this.input.value = "";
      this.send(text);
    });
    this.restartButton.addEventListener("click", () => this.restart());
  }

  start() {
    for (const entry of this.state.entries) this.render(entry);
    this.refresh();
    this.poll();
    if (this.state.pending) this.deliver();
    if (!this.state.conversation) this.create();
  }

  stop() {
    this.stopped = true;
    this.poller?.abort();
  }

  /** Moves the keyboard focus into the chat. */
  focus() {
    if (!this.input.disabled) this.input.focus();
    else if (!this.restartButton.hidden) this.restartButton.focus();
  }

  add(entry) {
    this.state.entries.push(entry);
    this.render(entry);
  }

  render(entry) {
    const item = element("li", `fb-entry fb-${entry.who}${entry.tone ? ` fb-${entry.tone}` : ""}`);
    if (entry.who === "bot" || entry.who === "user") {
      item.append(element("span", "fb-hidden", entry.who === "bot" ? `${this.bot}: ` : "You: "));
    }
    item.append(element("p", "fb-bubble", entry.text));
    this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** Shows what a turn answer or an outputs page brought that was not seen yet. */
  apply(body) {
    const outputs = Array.isArray(body.outputs) ? body.outputs : [];
    const fresh = outputs.filter((output) => output.seq > this.state.after);
    for (const output of fresh) {
      this.state.after = output.seq;
      this.show(output);
    }
    // An answer whose outputs were all seen may be older than one already applied.
    if (body.status && (fresh.length > 0 || outputs.length === 0)) this.state.status = body.status;
    this.save();
    this.refresh();
  }

  show(output) {
    switch (output.type) {
      case "message":
        this.add({ who: "bot", text: output.text ?? "" });
        this.state.options = Array.isArray(output.options) ? output.options : [];
        break;
      case "handoff":
        this.add({
          who: "note",
          tone: "handoff",
          text: output.team
            ? `You are being handed over to the ${output.team} team.`
            : "You are being handed over to a person.",
        });
        this.state.options = [];
        break;
      case "error":
        this.add({ who: "note", tone: "error", text: "Something went wrong in this chat." });
        break;
      case "event":
        this.root.dispatchEvent(
          new CustomEvent("flowbot:event", {
            bubbles: true,
            composed: true,
            detail: { name: output.name, data: output.data },
          }),
        );
        break;
      default:
        break;
    }
  }

  /** Sets the controls and the status line from the state. */
  refresh() {
    const { status, options, conversation, pending } = this.state;
    const closed = CLOSED.has(status);
    const active = this.root.getRootNode().activeElement;
    const formHadFocus = Boolean(active) && this.form.contains(active);
    this.choices.replaceChildren();
    if (status === "waiting" && !pending) {
      for (const option of options) {
        const button = element("button", "fb-option", option);
        button.type = "button";
        button.addEventListener("click", () => {
          this.send(option);
          this.input.focus();
        });
        this.choices.append(button);
      }
    }
    this.choices.hidden = this.choices.childElementCount === 0;
    this.input.disabled = closed;
    this.sendButton.disabled = closed || !conversation || Boolean(pending);
    this.form.hidden = closed;
    this.restartButton.hidden = !closed;
    if (closed && formHadFocus) this.restartButton.focus();
    this.root.dataset.status = status ?? "starting";
    this.statusLine.textContent = this.problem ?? this.statusText();
  }

  statusText() {
    if (this.state.pending) return "Sending\u2026";
    switch (this.state.status) {
      case null:
        return "Connecting\u2026";
      case "sleeping":
        return `${this.bot} will write again shortly.`;
      case "ended":
        return "The conversation has ended.";
      case "handed_off":
        return "This conversation was handed over to a person.";
      default:
        return "";
    }
  }

  /** Starts a conversation: the server makes its id. */
  async create() {
    let delay = 1000;
    while (!this.stopped) {
      try {
        const response = await fetch(this.api, { method: "POST" });
        if (response.ok) {
          const answer = await response.json();
          this.state = { ...fresh(), conversation: answer.conversation, entries: this.state.entries };
          this.problem = null;
          this.apply(answer);
          this.wakePoll();
          return;
        }
        if (response.status === 429 || response.status >= 500) {
          await this.waitOut(response, delay);
          delay = Math.min(delay * 2, MAX_BACKOFF);
          continue;
        }
        const error = await errorOf(response);
        this.problem =
          error.code === "unknown_bot" ? "This chat is not available." : `The chat could not start: ${error.message}`;
        this.refresh();
        return;
      } catch {
        delay = await this.unreachable(delay);
      }
    }
  }

  /** Sends the user's text as a message of its own, with its own id. */
  send(text) {
    if (this.state.pending || !this.state.conversation || CLOSED.has(this.state.status)) return;
    this.state.pending = { id: newId(), text };
    this.state.options = [];
    this.add({ who: "user", text });
    this.save();
    this.refresh();
    this.deliver();
  }

  /** Sends the pending message until the server answers it; a retry reuses its id. */
  async deliver() {
    const pending = this.state.pending;
    let delay = 1000;
    while (!this.stopped && this.state.pending === pending) {
      try {
        const url = `${this.api}/${encodeURIComponent(this.state.conversation)}/messages`;
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: pending.text, id: pending.id }),
        });
        if (response.ok) {
          const answer = await response.json();
          this.state.pending = null;
          this.problem = null;
          this.apply(answer);
          return;
        }
        if (response.status === 429 || response.status >= 500) {
          await this.waitOut(response, delay);
          delay = Math.min(delay * 2, MAX_BACKOFF);
          continue;
        }
        const error = await errorOf(response);
        this.state.pending = null;
        if (error.code === "unknown_conversation") {
          this.lost();
          return;
        }
        this.add({ who: "note", tone: "error", text: `Your message was not sent: ${error.message}` });
        this.save();
        this.refresh();
        return;
      } catch {
        delay = await this.unreachable(delay);
      }
    }
  }

  /** Follows the outputs endpoint, so that what a timer produced shows by itself. */
  async poll() {
    let delay = 1000;
    while (!this.stopped) {
      const conversation = this.state.conversation;
      if (!conversation || CLOSED.has(this.state.status)) {
        await new Promise((resolve) => {
          this.wakePoll = resolve;
        });
        continue;
      }
      this.poller = new AbortController();
      try {
        const url = `${this.api}/${encodeURIComponent(conversation)}/outputs?after=${this.state.after}&wait=${POLL_WAIT}`;
        const response = await fetch(url, { signal: this.poller.signal, cache: "no-store" });
        if (conversation !== this.state.conversation) continue;
        if (response.ok) {
          delay = 1000;
          this.apply(await response.json());
          if (this.problem) {
            this.problem = null;
            this.refresh();
          }
        } else if (response.status === 404) {
          this.lost();
        } else {
          await this.waitOut(response, delay);
          delay = Math.min(delay * 2, MAX_BACKOFF);
        }
      } catch {
        if (this.stopped) return;
        delay = await this.unreachable(delay);
      }
    }
  }

  /** Says the server cannot be reached, waits `delay`, and gives the next, longer, delay. */
  async unreachable(delay) {
    if (this.stopped) return delay;
    this.problem = "The chat server cannot be reached; trying again\u2026";
    this.refresh();
    await sleep(delay);
    return Math.min(delay * 2, MAX_BACKOFF);
  }

  /** Waits as long as a 429 or a 5xx asks, saying so. */
  async waitOut(response, delay) {
    const wait = retryAfter(response, delay);
    this.problem =
      response.status === 429
        ? `Too many messages at once; waiting ${Math.ceil(wait / 1000)} s.`
        : "The chat server is busy; trying again\u2026";
    this.refresh();
    await sleep(wait);
  }

  /** The server no longer has the conversation (deleted, or kept past its retention). */
  lost() {
    this.state = { ...fresh(), entries: this.state.entries, status: "ended" };
    this.add({ who: "note", tone: "ended", text: "This conversation is no longer available." });
    this.save();
    this.refresh();
  }

  /** Forgets the ended conversation and starts another. */
  restart() {
    this.state = fresh();
    this.log.replaceChildren();
    this.save();
    this.refresh();
    this.create().then(() => this.focus());
  }
}
