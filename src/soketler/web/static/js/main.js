// The chat page: wires the connection, the model and the DOM together.

import { Attention, recall, remember } from "./attention.js";
import { HELP, parseLine } from "./commands.js";
import { NickCompletion } from "./completion.js";
import { Connection, State, socketUrl } from "./connection.js";
import { conversationItem, memberItems } from "./lists.js";
import { Chat, Kind, fold, insertEntry } from "./model.js";
import { Panels } from "./panels.js";
import { initial, mentionPattern, mentions, nickColour, renderEntry } from "./render.js";
import { atBottom, keep, nearTop, place } from "./scroll.js";
import { SearchPanel } from "./search.js";
import { TEXT } from "./texts.js";

const NICK_KEY = "soketler.nick";
const PAGE_SIZE = 50; // messages asked for per step back through history

const $ = (id) => document.getElementById(id);
const ui = {
  app: $("app"),
  sidebar: $("sidebar"),
  rooms: $("rooms"),
  privates: $("privates"),
  privatesHint: $("privates-hint"),
  addRoom: $("add-room"),
  joinForm: $("join-form"),
  joinInput: $("join-input"),
  directory: $("directory"),
  meNick: $("me-nick"),
  meAvatar: $("me-avatar"),
  status: $("status"),
  menuButton: $("menu-button"),
  menuUnread: $("menu-unread"),
  closeSidebar: $("close-sidebar"),
  title: $("conv-title"),
  topic: $("conv-topic"),
  membersButton: $("members-button"),
  searchButton: $("search-button"),
  search: $("search"),
  searchForm: $("search-form"),
  searchInput: $("search-input"),
  searchClose: $("search-close"),
  searchStatus: $("search-status"),
  searchResults: $("search-results"),
  searchMore: $("search-more"),
  memberCount: $("member-count"),
  banner: $("banner"),
  bannerText: $("banner-text"),
  retry: $("retry-button"),
  log: $("log"),
  logTop: $("log-top"),
  entries: $("entries"),
  jump: $("jump"),
  composer: $("composer"),
  input: $("composer-input"),
  send: document.querySelector("#composer .send"),
  membersTotal: $("members-total"),
  memberList: $("member-list"),
  membersMore: $("members-more"),
  scrim: $("scrim"),
  loginForm: $("login-form"),
  nickInput: $("nick-input"),
  passwordInput: $("password-input"),
  loginError: $("login-error"),
  loginButton: $("login-button"),
};

const chat = new Chat();
const attention = new Attention();
const panels = new Panels(ui);
let mention = null; // the reader's nick as a pattern
let requestCounter = 0;
const pending = new Map(); // request id -> what it was for
let wantedNick = "";
// Kept in memory for reconnecting, never stored: a registered nickname (or the server)
// asks for it again at every hello.
let password = "";
let registeredOnce = false; // since the last login: a later hello is a reconnect
let joinTarget = null; // fold(room) the reader asked to join: switch to it when joined
let lastLine = "";
let countdown = null;
const completion = new NickCompletion();
const search = new SearchPanel(ui, {
  request: (message, note) => request(message, note),
  open: openResult,
  isMe: (nick) => chat.isMe(nick),
});

const connection = new Connection(socketUrl(window.location), {
  onOpen: () => {
    if (wantedNick) hello(wantedNick);
  },
  onMessage: receive,
  onStateChange: showState,
});

// --- requests -----------------------------------------------------------------------

function request(message, note = null) {
  requestCounter += 1;
  const id = requestCounter;
  if (!connection.send({ ...message, id })) return null;
  if (note) pending.set(id, note);
  return id;
}

function hello(nick) {
  const message = password ? { type: "hello", nick, password } : { type: "hello", nick };
  request(message, { kind: "hello" });
}

function withHash(room) {
  return room.startsWith("#") ? room : `#${room}`;
}

// --- what the server says ---------------------------------------------------------------

function receive(message) {
  const note = message.re !== undefined ? pending.get(message.re) || null : null;
  if (note && message.type !== "message") pending.delete(message.re);
  switch (message.type) {
    case "hello":
      return registered(message);
    case "message":
      return message.search ? search.found(message) : chatMessage(message);
    case "search":
      return search.end(message);
    case "history":
      return historyEnd(message, note);
    case "join":
      return joined(message);
    case "part":
      return parted(message);
    case "quit":
      return quit(message);
    case "nick":
      return renamed(message);
    case "topic":
      return topicChanged(message);
    case "who":
      return who(message, note);
    case "rooms":
      return roomList(message, note);
    case "info":
      return notice(chat.active, message.text);
    case "error":
      return failed(message, note);
    case "bye":
      return notice(chat.active, TEXT.server(message.reason || ""));
    default:
      return undefined; // pong, and whatever a newer server adds
  }
}

function registered(message) {
  const reconnect = registeredOnce;
  registeredOnce = true;
  wantedNick = message.nick;
  setMe(message.nick);
  remember(NICK_KEY, message.nick);
  connection.registered();
  ui.app.dataset.phase = "chat";
  ui.loginButton.disabled = false;
  if (reconnect) {
    // The server put us in its default room; go back to the rooms we were in.
    const here = fold(message.room || "");
    const rooms = chat.list(Kind.ROOM).map((c) => c.name);
    for (const room of rooms) if (fold(room) !== here) request({ type: "join", room });
    if (rooms.length && !rooms.some((room) => fold(room) === here)) {
      request({ type: "part", room: message.room });
    }
    notice(chat.active, TEXT.reconnected);
  }
  ui.input.focus();
}

function setMe(nick) {
  chat.me = nick;
  mention = mentionPattern(nick);
  ui.meNick.textContent = nick;
  ui.meAvatar.textContent = initial(nick);
  ui.meAvatar.className = `avatar ${nickColour(nick)}`;
}

function chatMessage(message) {
  if (typeof message.id !== "number" || typeof message.text !== "string") return;
  if (chat.reused(message)) {
    chat.forgetHistory();
    rerenderActive();
    notice(chat.active, TEXT.historyReset);
  }
  const existed = chat.find(
    typeof message.room === "string" ? Kind.ROOM : Kind.PRIVATE,
    typeof message.room === "string" ? message.room : chat.isMe(message.from) ? message.to : message.from,
  );
  const conversation = chat.conversationOf(message);
  if (conversation.kind === Kind.PRIVATE) conversation.joined = true;
  const own = chat.isMe(message.from);
  const entry = {
    ...chat.messageKey(message.id),
    id: message.id,
    kind: "message",
    time: message.time,
    from: message.from,
    text: message.text,
    action: Boolean(message.action),
    history: Boolean(message.history),
    own,
    privateTo: own && conversation.kind === Kind.PRIVATE ? message.to : null,
    mention: !own && mentions(mention, message.text),
  };
  if (!entry.history) showJoined(conversation);
  if (addEntry(conversation, entry) < 0) return;
  chat.remember(entry);
  if (entry.history || own) {
    if (!existed) renderSidebar();
    return;
  }
  const active = conversation.id === chat.activeId;
  const urgent = entry.mention || conversation.kind === Kind.PRIVATE;
  if (!active) {
    conversation.unread += 1;
    if (urgent) conversation.mentions += 1;
  }
  attention.arrived(active || urgent);
  if (urgent) {
    const where = conversation.kind === Kind.ROOM ? ` in ${conversation.name}` : "";
    attention.notify(`${message.from}${where}`, message.text, conversation.id, () => activate(conversation.id));
  }
  renderSidebar();
}

function historyEnd(message, note) {
  let conversation = null;
  if (note && note.kind === "history") conversation = chat.conversations.get(note.conversation) || null;
  else if (typeof message.room === "string") conversation = chat.find(Kind.ROOM, message.room);
  else if (typeof message.with === "string") conversation = chat.find(Kind.PRIVATE, message.with);
  if (!conversation) return;
  conversation.more = Boolean(message.more);
  if (note) conversation.loading = false;
  else showJoined(conversation);
  if (conversation.id === chat.activeId) {
    renderLogTop();
    maybeLoadOlder(); // the window may not be full yet
  }
}

function joined(message) {
  const conversation = chat.open(Kind.ROOM, message.room);
  if (chat.isMe(message.nick)) {
    const wasIn = conversation.joined;
    conversation.joined = true;
    conversation.name = message.room;
    // Shown after the replayed history, which follows: an entry is placed after the
    // newest message seen when it arrives, and right now that is none of the room's.
    if (!wasIn) conversation.joinedAt = message.time;
    conversation.addMember(message.nick);
    if (!chat.activeId || joinTarget === fold(message.room)) {
      joinTarget = null;
      activate(conversation.id);
    }
    renderSidebar();
    return;
  }
  if (!conversation.joined) return;
  conversation.addMember(message.nick);
  addEvent(conversation, message.time, TEXT.joined(message.nick));
  if (conversation.id === chat.activeId) renderMembers();
}

function showJoined(conversation) {
  if (conversation.joinedAt === undefined) return;
  const time = conversation.joinedAt;
  delete conversation.joinedAt;
  placeEvent(conversation, time, TEXT.youJoined(conversation.name));
}

function parted(message) {
  const conversation = chat.find(Kind.ROOM, message.room);
  if (!conversation) return;
  if (chat.isMe(message.nick)) {
    const wasActive = conversation.id === chat.activeId;
    conversation.joined = false;
    chat.close(conversation.id);
    if (wasActive) activateFirst();
    renderSidebar();
    return;
  }
  conversation.removeMember(message.nick);
  addEvent(conversation, message.time, TEXT.left(message.nick, message.reason), { leave: true });
  if (conversation.id === chat.activeId) renderMembers();
}

function quit(message) {
  for (const conversation of chat.conversations.values()) {
    const here = conversation.kind === Kind.ROOM ? conversation.hasMember(message.nick) : fold(conversation.name) === fold(message.nick);
    if (!here) continue;
    conversation.removeMember(message.nick);
    addEvent(conversation, message.time, TEXT.quit(message.nick, message.reason), { leave: true });
  }
  renderMembers();
}

function renamed(message) {
  const { old, new: now } = message;
  if (chat.isMe(old)) {
    setMe(now);
    remember(NICK_KEY, now);
    wantedNick = now;
    rerenderActive(); // mentions of the new nick are marked from now on
  }
  for (const conversation of chat.conversations.values()) {
    if (conversation.kind !== Kind.ROOM || !conversation.hasMember(old)) continue;
    conversation.removeMember(old);
    conversation.addMember(now);
    addEvent(conversation, message.time, TEXT.renamed(old, now));
  }
  const talk = chat.renamePrivate(old, now);
  if (talk) addEvent(talk, message.time, TEXT.renamed(old, now));
  renderSidebar();
  renderHeader();
  renderMembers();
}

function topicChanged(message) {
  const conversation = chat.find(Kind.ROOM, message.room);
  if (!conversation) return;
  conversation.topic = message.text || "";
  addEvent(conversation, message.time, TEXT.topicSet(message.nick, message.text || ""));
  if (conversation.id === chat.activeId) renderHeader();
}

function who(message, note) {
  const conversation = chat.find(Kind.ROOM, message.room);
  const users = Array.isArray(message.users) ? message.users.filter((u) => typeof u === "string") : [];
  const total = typeof message.count === "number" ? message.count : users.length;
  if (conversation) {
    conversation.setMembers(users, total);
    conversation.topic = message.topic || "";
    if (conversation.id === chat.activeId) {
      renderHeader();
      renderMembers();
    }
  }
  if (note && note.kind === "who") notice(conversation || chat.active, TEXT.who(message.room, users, total));
}

function roomList(message, note) {
  const rooms = Array.isArray(message.rooms) ? message.rooms : [];
  if (note && note.kind === "directory") {
    ui.directory.replaceChildren(
      ...rooms.map((room) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        const name = document.createElement("span");
        name.textContent = room.name;
        const count = document.createElement("span");
        count.className = "n";
        count.textContent = String(room.users);
        button.append(name, count);
        if (room.topic) button.title = room.topic;
        button.addEventListener("click", () => joinRoom(room.name));
        item.append(button);
        return item;
      }),
    );
    return;
  }
  notice(chat.active, TEXT.rooms(rooms));
}

// Refusals of a hello that a password answers.
const PASSWORD_CODES = new Set(["nick-registered", "password-required", "bad-password"]);

function failed(message, note) {
  const text = message.text || message.code || "error";
  if (note && note.kind === "hello") {
    ui.app.dataset.phase = "login";
    ui.loginError.textContent = text;
    ui.loginButton.disabled = false;
    if (PASSWORD_CODES.has(message.code)) {
      // Not again by itself with the same password: the person types it.
      connection.stop();
      wantedNick = "";
      password = "";
      ui.passwordInput.focus();
      ui.passwordInput.select();
    } else {
      ui.nickInput.focus();
      ui.nickInput.select();
    }
    return;
  }
  if (note && note.kind === "history") {
    const conversation = chat.conversations.get(note.conversation);
    if (conversation) {
      conversation.loading = false;
      conversation.more = false;
      if (conversation.id === chat.activeId) renderLogTop();
    }
    return;
  }
  if (note && note.kind === "search") {
    search.failed(message);
    return;
  }
  if (note && note.kind === "join") joinTarget = null;
  notice(chat.active, text, true);
}

// --- entries -------------------------------------------------------------------------

function addEntry(conversation, entry) {
  const index = insertEntry(conversation, entry);
  if (index < 0) return -1;
  const atEnd = index === conversation.entries.length - 1;
  if (conversation.id !== chat.activeId) {
    if (atEnd) chat.trim(conversation);
    return index;
  }
  const where = place(ui.log);
  ui.entries.insertBefore(renderEntry(entry, mention), ui.entries.children[index] || null);
  if (atEnd) {
    for (let dropped = chat.trim(conversation); dropped > 0; dropped -= 1) ui.entries.firstElementChild.remove();
    if (!where.atBottom) ui.jump.hidden = false;
  }
  keep(ui.log, where, atEnd);
  return index;
}

function addEvent(conversation, time, text, options = {}) {
  if (!conversation) return;
  showJoined(conversation);
  placeEvent(conversation, time, text, options);
}

function placeEvent(conversation, time, text, options = {}) {
  addEntry(conversation, { ...chat.eventKey(), kind: "event", time, text, leave: Boolean(options.leave) });
}

function notice(conversation, text, error = false) {
  if (!conversation) return;
  addEntry(conversation, { ...chat.eventKey(), kind: "notice", time: new Date().toISOString(), text, error });
}

// --- scrolling -------------------------------------------------------------------------

function scrollToBottom() {
  ui.log.scrollTop = ui.log.scrollHeight;
  ui.jump.hidden = true;
}

function maybeLoadOlder() {
  const conversation = chat.active;
  if (!conversation || conversation.loading || connection.state !== State.CONNECTED) return;
  const more = conversation.more === true || (conversation.more === null && conversation.kind === Kind.PRIVATE);
  if (more && nearTop(ui.log)) loadOlder(conversation);
}

function loadOlder(conversation) {
  const ask = { type: "history", limit: PAGE_SIZE };
  if (conversation.kind === Kind.ROOM) ask.room = conversation.name;
  else ask.with = conversation.name;
  const oldest = conversation.oldestId();
  if (oldest !== null) ask.before = oldest;
  if (request(ask, { kind: "history", conversation: conversation.id }) === null) return;
  conversation.loading = true;
  renderLogTop();
}

// --- rendering ------------------------------------------------------------------------

function renderLogTop() {
  const conversation = chat.active;
  let text = "";
  if (conversation && conversation.loading) text = TEXT.loadingOlder;
  else if (conversation && conversation.more === false) {
    text = conversation.kind === Kind.ROOM ? TEXT.beginningRoom(conversation.name) : TEXT.beginningPrivate(conversation.name);
  }
  ui.logTop.textContent = text;
}

function rerenderActive() {
  const conversation = chat.active;
  const items = conversation ? conversation.entries.map((entry) => renderEntry(entry, mention)) : [];
  ui.entries.replaceChildren(...items);
  renderLogTop();
  scrollToBottom();
  maybeLoadOlder();
}

function renderHeader() {
  const conversation = chat.active;
  ui.title.textContent = conversation ? conversation.name : "soketler";
  ui.topic.textContent = conversation && conversation.kind === Kind.ROOM ? conversation.topic : "";
  ui.topic.title = ui.topic.textContent;
  const room = conversation && conversation.kind === Kind.ROOM;
  ui.membersButton.hidden = !room;
  ui.memberCount.textContent = room ? String(conversation.memberTotal || conversation.members.size) : "";
  ui.input.placeholder = conversation ? TEXT.messagePlaceholder(conversation.name) : "";
  attention.setLabel(conversation ? conversation.name : "");
}

function renderSidebar() {
  const actions = { open: (c) => activate(c.id), leave: leaveConversation };
  const item = (c) => conversationItem(c, c.id === chat.activeId, actions);
  ui.rooms.replaceChildren(...chat.list(Kind.ROOM).map(item));
  const privates = chat.list(Kind.PRIVATE);
  ui.privates.replaceChildren(...privates.map(item));
  ui.privatesHint.hidden = privates.length > 0;
  ui.menuUnread.hidden = !chat.ordered().some((c) => c.unread && c.id !== chat.activeId);
}

function renderMembers() {
  const conversation = chat.active;
  const room = conversation && conversation.kind === Kind.ROOM;
  const nicks = room ? [...conversation.members.values()].sort((a, b) => fold(a).localeCompare(fold(b))) : [];
  ui.memberList.replaceChildren(...memberItems(nicks, (nick) => chat.isMe(nick), openPrivate));
  const total = room ? Math.max(conversation.memberTotal, nicks.length) : 0;
  ui.membersTotal.textContent = room ? String(total) : "";
  if (room) ui.memberCount.textContent = String(total);
  ui.membersMore.hidden = total <= nicks.length;
  ui.membersMore.textContent = TEXT.membersMore(total - nicks.length);
}

function activate(id) {
  const conversation = chat.conversations.get(id);
  if (!conversation) return;
  chat.activeId = id;
  conversation.unread = 0;
  conversation.mentions = 0;
  renderHeader();
  renderSidebar();
  renderMembers();
  rerenderActive();
  panels.closeDrawers();
}

function activateFirst() {
  const first = chat.ordered()[0];
  if (first) activate(first.id);
  else {
    chat.activeId = null;
    renderHeader();
    renderMembers();
    rerenderActive();
  }
}

function moveConversation(step) {
  const list = chat.ordered();
  if (!list.length) return;
  const at = list.findIndex((c) => c.id === chat.activeId);
  activate(list[(at + step + list.length) % list.length].id);
}

function openPrivate(nick) {
  const conversation = chat.open(Kind.PRIVATE, nick);
  conversation.joined = true;
  activate(conversation.id);
  ui.input.focus();
}

// A search result: its conversation, if the reader is in it (or it is private).
function openResult(message) {
  if (typeof message.room === "string") {
    const room = chat.find(Kind.ROOM, message.room);
    if (room && room.joined) activate(room.id);
    return;
  }
  openPrivate(chat.isMe(message.from) ? message.to : message.from);
}

function joinRoom(room) {
  const name = withHash(room.trim());
  const known = chat.find(Kind.ROOM, name);
  if (known && known.joined) {
    activate(known.id);
  } else {
    joinTarget = fold(name);
    request({ type: "join", room: name }, { kind: "join" });
  }
  toggleJoinForm(false);
  ui.input.focus();
}

function leaveConversation(conversation) {
  if (conversation.kind === Kind.ROOM) {
    request({ type: "part", room: conversation.name });
    return;
  }
  const wasActive = conversation.id === chat.activeId;
  chat.close(conversation.id);
  if (wasActive) activateFirst();
  renderSidebar();
}

// --- state of the connection ----------------------------------------------------------

function showState(state) {
  if (state === State.WAITING || state === State.OFFLINE) forgetRequests();
  clearInterval(countdown);
  countdown = null;
  ui.status.dataset.state = state;
  const inChat = ui.app.dataset.phase === "chat";
  const seconds = () => Math.max(1, Math.ceil((connection.retryAt - Date.now()) / 1000));
  const paint = () => {
    const s = seconds();
    ui.status.textContent = state === State.WAITING ? TEXT.waiting(s) : TEXT[state];
    if (inChat) {
      ui.bannerText.textContent = state === State.WAITING ? TEXT.lost(s) : TEXT.reconnecting;
    } else if (wantedNick && state === State.WAITING) {
      ui.loginError.textContent = TEXT.unreachable(s);
      ui.loginButton.disabled = false;
    }
  };
  paint();
  if (state === State.WAITING) countdown = setInterval(paint, 1000);
  ui.banner.hidden = !inChat || state === State.CONNECTED || state === State.OFFLINE;
  ui.retry.hidden = state !== State.WAITING;
  const usable = state === State.CONNECTED;
  ui.input.disabled = !usable && !inChat;
  ui.send.disabled = !usable;
  if (state === State.CONNECTED) maybeLoadOlder();
}

// Answers to what was asked on a connection that is gone will never come.
function forgetRequests() {
  pending.clear();
  search.forget();
  for (const conversation of chat.conversations.values()) conversation.loading = false;
  renderLogTop();
}

// --- the composer ------------------------------------------------------------------------

function sendLine(line) {
  const command = parseLine(line);
  const conversation = chat.active;
  const target = () => (conversation.kind === Kind.ROOM ? { room: conversation.name } : { to: conversation.name });
  switch (command.kind) {
    case "nothing":
      return true;
    case "say":
    case "me":
      if (!conversation) return true;
      return connection.send({ type: "message", ...target(), text: command.text, action: command.kind === "me" });
    case "msg": {
      const sent = connection.send({ type: "message", to: command.nick, text: command.text });
      if (sent) openPrivate(command.nick);
      return sent;
    }
    case "query":
      openPrivate(command.nick);
      return true;
    case "join":
      joinRoom(command.room);
      return true;
    case "part": {
      const room = command.room || (conversation && conversation.kind === Kind.ROOM ? conversation.name : null);
      if (!room) {
        if (conversation) leaveConversation(conversation);
        return true;
      }
      return request({ type: "part", room: withHash(room), reason: command.reason }) !== null;
    }
    case "nick":
      return request({ type: "nick", nick: command.nick }) !== null;
    case "topic":
      if (!conversation || conversation.kind !== Kind.ROOM) {
        notice(conversation, TEXT.roomOnly, true);
        return true;
      }
      if (!command.text) {
        notice(conversation, TEXT.topicIs(conversation.name, conversation.topic));
        return true;
      }
      return request({ type: "topic", room: conversation.name, text: command.text }) !== null;
    case "who":
      if (!conversation || conversation.kind !== Kind.ROOM) {
        notice(conversation, TEXT.roomOnly, true);
        return true;
      }
      return request({ type: "who", room: conversation.name }, { kind: "who" }) !== null;
    case "rooms":
      return request({ type: "rooms" }, { kind: "rooms" }) !== null;
    case "search":
      search.run(command.text);
      return true;
    case "quit":
      request({ type: "quit", reason: command.reason });
      leaveServer();
      return true;
    case "help":
      notice(conversation, HELP);
      return true;
    case "usage":
      notice(conversation, TEXT.usage(command.text), true);
      return true;
    default:
      notice(conversation, TEXT.unknown(command.name), true);
      return true;
  }
}

function leaveServer() {
  connection.stop();
  registeredOnce = false;
  wantedNick = "";
  password = "";
  ui.passwordInput.value = "";
  chat.conversations.clear();
  chat.activeId = null;
  pending.clear();
  renderSidebar();
  renderHeader();
  rerenderActive();
  ui.app.dataset.phase = "login";
  ui.loginError.textContent = TEXT.left_server;
  ui.nickInput.focus();
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const line = ui.input.value;
  if (!line.trim()) return;
  if (!sendLine(line)) {
    notice(chat.active, TEXT.notSent, true);
    return;
  }
  lastLine = line;
  ui.input.value = "";
  completion.reset();
  scrollToBottom();
});

function completionNames() {
  const conversation = chat.active;
  if (!conversation) return [];
  const names = conversation.kind === Kind.ROOM ? [...conversation.members.values()] : [conversation.name];
  return names.filter((nick) => !chat.isMe(nick));
}

ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Tab" && !event.shiftKey && ui.input.value) {
    event.preventDefault();
    completion.complete(ui.input, completionNames());
    return;
  }
  if (event.key !== "Tab") completion.reset();
  if (event.key === "ArrowUp" && !ui.input.value && lastLine && !event.altKey) {
    event.preventDefault();
    ui.input.value = lastLine;
  } else if (event.key === "PageUp" || event.key === "PageDown") {
    event.preventDefault();
    ui.log.scrollBy({ top: (event.key === "PageUp" ? -0.9 : 0.9) * ui.log.clientHeight });
  }
});

// --- panels and keys ---------------------------------------------------------------------

function toggleJoinForm(open = ui.joinForm.hidden) {
  ui.joinForm.hidden = !open;
  ui.addRoom.setAttribute("aria-expanded", String(open));
  if (open) {
    if (panels.narrow) panels.setSidebar(true);
    ui.joinInput.value = "";
    ui.directory.replaceChildren();
    request({ type: "rooms" }, { kind: "directory" });
    ui.joinInput.focus();
  }
}

ui.addRoom.addEventListener("click", () => toggleJoinForm());
ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (ui.joinInput.value.trim()) joinRoom(ui.joinInput.value);
});
ui.retry.addEventListener("click", () => connection.retryNow());
ui.jump.addEventListener("click", scrollToBottom);
ui.log.addEventListener("scroll", () => {
  if (atBottom(ui.log)) ui.jump.hidden = true;
  maybeLoadOlder();
});
ui.entries.addEventListener("click", (event) => {
  const nick = event.target instanceof Element ? event.target.closest(".nick") : null;
  if (nick && nick.dataset.nick && !chat.isMe(nick.dataset.nick)) openPrivate(nick.dataset.nick);
});
window.addEventListener("online", () => connection.retryNow());

document.addEventListener("keydown", (event) => {
  if (ui.app.dataset.phase !== "chat") return;
  if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
    event.preventDefault();
    moveConversation(event.key === "ArrowUp" ? -1 : 1);
    ui.input.focus();
  } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
    event.preventDefault();
    toggleJoinForm(true);
  } else if (event.key === "Escape") {
    panels.closeDrawers();
    if (search.isOpen) search.close();
    if (!ui.joinForm.hidden) toggleJoinForm(false);
    ui.input.focus();
  } else if (
    event.key.length === 1 &&
    !event.ctrlKey &&
    !event.metaKey &&
    !event.altKey &&
    !(document.activeElement instanceof HTMLInputElement)
  ) {
    ui.input.focus(); // typing anywhere goes to the message box
  }
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && chat.active) {
    chat.active.unread = 0;
    renderSidebar();
  }
});

// --- start ---------------------------------------------------------------------------

ui.loginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const nick = ui.nickInput.value.trim();
  if (!nick) return;
  attention.askOnce();
  wantedNick = nick;
  password = ui.passwordInput.value;
  ui.loginError.textContent = "";
  ui.loginButton.disabled = true;
  if (connection.state === State.OFFLINE) connection.start();
  else if (connection.socket && connection.socket.readyState === WebSocket.OPEN) hello(nick);
  else connection.retryNow();
});

ui.nickInput.value = recall(NICK_KEY) || "";
renderSidebar();
renderHeader();
showState(State.OFFLINE);
ui.app.dataset.ready = "true";
