// The search panel: a search of the reader's rooms and private messages, as the
// server runs it (docs/protocol.md, "search"), with its results listed under the header.
// Results are put on the page as text nodes, like every message.

import { nickColour, shortTime } from "./render.js";
import { TEXT } from "./texts.js";

const PAGE = 30; // matches asked for per page

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

// Minutes east of UTC: the dates of a search ("after:2026-11-01") are the reader's days.
function zoneMinutes() {
  return -new Date().getTimezoneOffset();
}

export class SearchPanel {
  // `request(message, note)` sends and returns its id (null when not connected);
  // `open(result)` shows the conversation a result belongs to; `isMe(nick)`.
  constructor(ui, { request, open, isMe }) {
    this.ui = ui;
    this.request = request;
    this.openResult = open;
    this.isMe = isMe;
    this.query = "";
    this.oldest = null;
    this.asking = null; // the id of the request whose answer is awaited
    this.page = []; // its results so far
    ui.searchButton.addEventListener("click", () => this.toggle());
    ui.searchClose.addEventListener("click", () => this.close());
    ui.searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(ui.searchInput.value);
    });
    ui.searchMore.addEventListener("click", () => this.ask(this.oldest));
    ui.searchInput.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    });
  }

  get isOpen() {
    return !this.ui.search.hidden;
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.show();
  }

  // Opened to ask: what was searched last is selected, so typing replaces it.
  show(select = true) {
    this.ui.search.hidden = false;
    this.ui.searchButton.setAttribute("aria-expanded", "true");
    this.ui.searchInput.focus();
    if (select) this.ui.searchInput.select();
  }

  close() {
    this.ui.search.hidden = true;
    this.ui.searchButton.setAttribute("aria-expanded", "false");
    this.asking = null;
    this.ui.input.focus();
  }

  // A new search: the newest matches first asked for, older ones page by page.
  run(text) {
    const query = text.trim();
    this.ui.searchInput.value = query;
    this.show(false);
    if (!query) return;
    this.query = query;
    this.oldest = null;
    this.ui.searchResults.replaceChildren();
    this.ask(null);
  }

  ask(before) {
    this.page = [];
    const message = { type: "search", q: this.query, limit: PAGE, tz: zoneMinutes() };
    if (before !== null) message.before = before;
    const id = this.request(message, { kind: "search" });
    this.ui.searchMore.hidden = true;
    if (id === null) {
      this.status(TEXT.searchOffline, true);
      return;
    }
    this.asking = id;
    this.status(TEXT.searching);
  }

  // Shown newest first, as a search is read: a page comes oldest first, and each
  // older page goes below the last.
  found(message) {
    if (message.re !== this.asking) return;
    this.page.push(this.item(message));
  }

  end(message) {
    if (message.re !== this.asking) return;
    this.asking = null;
    this.ui.searchResults.append(...this.page.reverse());
    this.page = [];
    const shown = this.ui.searchResults.children.length;
    this.status(shown ? TEXT.searchFound(shown, message.more) : TEXT.searchNothing(this.query));
    this.oldest = typeof message.oldest === "number" ? message.oldest : null;
    this.ui.searchMore.hidden = !(message.more && this.oldest !== null);
  }

  failed(message) {
    if (message.re !== this.asking) return;
    this.asking = null;
    this.page = [];
    this.status(message.text || message.code || "error", true);
  }

  // What was asked on a connection that dropped will not be answered.
  forget() {
    if (this.asking !== null) this.status(TEXT.searchOffline, true);
    this.asking = null;
    this.page = [];
  }

  status(text, error = false) {
    this.ui.searchStatus.textContent = text;
    this.ui.searchStatus.classList.toggle("error", error);
  }

  item(message) {
    const item = document.createElement("li");
    item.className = "result";
    const button = document.createElement("button");
    button.type = "button";
    const where = typeof message.room === "string" ? message.room : TEXT.searchPrivate(this.isMe(message.from) ? message.to : message.from);
    const head = document.createElement("span");
    head.className = "where";
    const date = new Date(message.time);
    const time = document.createElement("time");
    time.className = "time";
    if (!Number.isNaN(date.getTime())) {
      time.dateTime = date.toISOString();
      time.textContent = shortTime(date);
      time.title = date.toLocaleString();
    }
    head.append(span("conv-name", where), time);
    const body = document.createElement("span");
    body.className = "body";
    body.append(span(`nick ${nickColour(message.from)}`, message.from), span("text", message.text));
    if (message.action) item.classList.add("action");
    button.append(head, body);
    button.addEventListener("click", () => {
      this.openResult(message);
      this.close();
    });
    item.dataset.id = String(message.id);
    item.append(button);
    return item;
  }
}
