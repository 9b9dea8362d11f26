// DOM for entries. Everything people wrote is put in text nodes (textContent or
// createTextNode): never parsed as HTML, so "<img onerror=...>" is shown, not run.

const COLOURS = 12;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/giu;
// Trailing punctuation is almost always the sentence's, not the link's.
const URL_TRAILING = /[.,;:!?)\]}'"]+$/u;

export function nickColour(nick) {
  let hash = 0;
  for (const char of String(nick).toLowerCase()) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return `c${hash % COLOURS}`;
}

export function initial(nick) {
  const first = Array.from(String(nick))[0] || "?";
  return first.toUpperCase();
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&");
}

// Matches the nick as a whole word, in any case: "ayşe:", "@ayşe" and "AYŞE!" do,
// "ayşegül" does not.
export function mentionPattern(nick) {
  if (!nick) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(nick)}(?![\\p{L}\\p{N}_])`, "giu");
}

export function mentions(pattern, text) {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}

function safeLink(candidate) {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function appendMarked(parent, text, pattern) {
  if (!pattern || !text) {
    if (text) parent.append(document.createTextNode(text));
    return;
  }
  pattern.lastIndex = 0;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    parent.append(mark);
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

// Text with its web links made clickable and the reader's nick marked.
export function appendRichText(parent, text, pattern) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(URL_TRAILING, "");
    const href = safeLink(raw);
    if (!href) continue;
    appendMarked(parent, text.slice(last, match.index), pattern);
    const link = document.createElement("a");
    link.href = href;
    link.textContent = raw;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    parent.append(link);
    last = match.index + raw.length;
  }
  appendMarked(parent, text.slice(last), pattern);
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// Local time; the date too when it is not today.
export function shortTime(date, now = new Date()) {
  const time = date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  if (sameDay(date, now)) return time;
  const day = date.toLocaleDateString([], {
    day: "numeric",
    month: "short",
    year: date.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
  return `${day} ${time}`;
}

function timeElement(iso) {
  const element = document.createElement("time");
  element.className = "time";
  const date = iso ? new Date(iso) : null;
  if (date && !Number.isNaN(date.getTime())) {
    element.dateTime = date.toISOString();
    element.textContent = shortTime(date);
    element.title = date.toLocaleString();
  }
  return element;
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

// One <li> for an entry of a conversation (see main.js for the kinds).
export function renderEntry(entry, pattern) {
  const item = document.createElement("li");
  item.className = `entry ${entry.kind}`;
  item.append(timeElement(entry.time));
  const body = document.createElement("div");
  body.className = "body";
  item.append(body);
  if (entry.kind === "message") {
    if (entry.own) item.classList.add("own");
    if (entry.mention) item.classList.add("mention");
    if (entry.action) item.classList.add("action");
    if (entry.history) item.classList.add("history");
    if (entry.privateTo) {
      item.classList.add("private-out");
      body.append(span("arrow", "→"));
    }
    const nick = span(`nick ${nickColour(entry.from)}`, entry.from);
    nick.dataset.nick = entry.from;
    body.append(nick);
    const text = document.createElement("span");
    text.className = "text";
    appendRichText(text, entry.text, entry.own ? null : pattern);
    body.append(text);
    item.dataset.id = String(entry.id);
  } else {
    if (entry.leave) item.classList.add("leave");
    if (entry.error) item.classList.add("error");
    body.append(span("text", entry.text));
  }
  return item;
}
