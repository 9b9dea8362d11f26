// What the page knows: conversations (rooms and private talks), their entries in order,
// unread counts and members. No DOM here.

// Names are compared ignoring case, as the server does. toLowerCase, not
// toLocaleLowerCase: a Turkish browser would otherwise fold "I" to "ı".
export function fold(name) {
  return String(name).normalize("NFC").toLowerCase();
}

export const Kind = Object.freeze({ ROOM: "room", PRIVATE: "private" });

// Past this, the oldest entries of a conversation are let go (scrolling back fetches
// them again), so a tab left open for a week stays light.
export const MAX_ENTRIES = 3000;

export function conversationId(kind, name) {
  return `${kind}:${fold(name)}`;
}

export class Conversation {
  constructor(kind, name) {
    this.kind = kind;
    this.name = name;
    this.id = conversationId(kind, name);
    this.entries = []; // sorted by (k1, k2)
    this.unread = 0;
    this.mentions = 0;
    this.more = null; // older history exists: true, false, or not asked yet
    this.loading = false;
    this.topic = "";
    this.members = new Map(); // fold(nick) -> nick
    this.memberTotal = 0;
    this.joined = kind === Kind.PRIVATE;
  }

  oldestId() {
    for (const entry of this.entries) if (entry.id !== undefined) return entry.id;
    return null;
  }

  setMembers(users, total) {
    this.members = new Map(users.map((nick) => [fold(nick), nick]));
    this.memberTotal = Math.max(total ?? users.length, users.length);
  }

  addMember(nick) {
    if (!this.members.has(fold(nick))) this.memberTotal += 1;
    this.members.set(fold(nick), nick);
  }

  removeMember(nick) {
    if (this.members.delete(fold(nick)) || this.memberTotal > this.members.size) {
      this.memberTotal = Math.max(this.members.size, this.memberTotal - 1);
    }
  }

  hasMember(nick) {
    return this.members.has(fold(nick));
  }
}

function before(a, b) {
  return a.k1 < b.k1 || (a.k1 === b.k1 && a.k2 < b.k2);
}

// Puts an entry in its place. Returns its index, or -1 for a message already there
// (history replayed after a reconnect repeats what was seen live).
export function insertEntry(conversation, entry) {
  const list = conversation.entries;
  let low = 0;
  let high = list.length;
  if (high === 0 || before(list[high - 1], entry)) {
    low = high; // the usual case: a live message after everything
  } else {
    while (low < high) {
      const mid = (low + high) >> 1;
      if (before(list[mid], entry)) low = mid + 1;
      else high = mid;
    }
  }
  const found = list[low];
  if (entry.id !== undefined && found && found.id === entry.id) return -1;
  list.splice(low, 0, entry);
  return low;
}

function signature(message) {
  return `${message.from}\u0000${message.text}`;
}

export class Chat {
  constructor() {
    this.me = "";
    this.conversations = new Map();
    this.activeId = null;
    this.maxId = 0; // the newest message id seen: events without ids go after it
    this.seq = 0;
    this.shown = new Map(); // message id -> who said what, to tell a repeat from a reuse
  }

  // A message id we hold for another message: the server restarted without its history
  // (--db :memory:) and counts from 1 again.
  reused(message) {
    const known = this.shown.get(message.id);
    return known !== undefined && known !== signature(message);
  }

  remember(entry) {
    this.shown.set(entry.id, signature(entry));
  }

  // Forgets every message: what we hold no longer matches the server's ids.
  forgetHistory() {
    for (const conversation of this.conversations.values()) {
      conversation.entries = [];
      conversation.more = null;
      conversation.loading = false;
    }
    this.shown.clear();
    this.maxId = 0;
    this.seq = 0;
  }

  // Drops the oldest entries past MAX_ENTRIES; returns how many went.
  trim(conversation) {
    const extra = conversation.entries.length - MAX_ENTRIES;
    if (extra <= 0) return 0;
    for (const entry of conversation.entries.splice(0, extra)) {
      if (entry.id !== undefined) this.shown.delete(entry.id);
    }
    conversation.more = true;
    return extra;
  }

  get active() {
    return this.conversations.get(this.activeId) || null;
  }

  isMe(nick) {
    return this.me !== "" && fold(nick) === fold(this.me);
  }

  find(kind, name) {
    return this.conversations.get(conversationId(kind, name)) || null;
  }

  open(kind, name) {
    let conversation = this.find(kind, name);
    if (!conversation) {
      conversation = new Conversation(kind, name);
      this.conversations.set(conversation.id, conversation);
    }
    return conversation;
  }

  close(id) {
    const conversation = this.conversations.get(id);
    if (conversation) for (const entry of conversation.entries) if (entry.id !== undefined) this.shown.delete(entry.id);
    this.conversations.delete(id);
    if (this.activeId === id) this.activeId = null;
  }

  list(kind) {
    const items = [...this.conversations.values()].filter((c) => c.kind === kind && c.joined);
    return items.sort((a, b) => fold(a.name).localeCompare(fold(b.name)));
  }

  // Ordered as the sidebar shows them: rooms, then private conversations.
  ordered() {
    return [...this.list(Kind.ROOM), ...this.list(Kind.PRIVATE)];
  }

  messageKey(id) {
    if (id > this.maxId) this.maxId = id;
    return { k1: id, k2: 0 };
  }

  eventKey() {
    this.seq += 1;
    return { k1: this.maxId, k2: this.seq };
  }

  // The conversation a message belongs to, from the reader's side.
  conversationOf(message) {
    if (typeof message.room === "string") return this.open(Kind.ROOM, message.room);
    const partner = this.isMe(message.from) ? message.to : message.from;
    return this.open(Kind.PRIVATE, partner);
  }

  renamePrivate(oldNick, newNick) {
    const conversation = this.find(Kind.PRIVATE, oldNick);
    if (!conversation || this.find(Kind.PRIVATE, newNick)) return null;
    this.conversations.delete(conversation.id);
    conversation.name = newNick;
    const oldId = conversation.id;
    conversation.id = conversationId(Kind.PRIVATE, newNick);
    this.conversations.set(conversation.id, conversation);
    if (this.activeId === oldId) this.activeId = conversation.id;
    return conversation;
  }
}
