// What a line typed in the composer asks for. Plain text is a message; "/" starts a
// command, as on every other way into soketler; "//text" sends "/text".

export const HELP = [
  "Commands:",
  "/me ACTION — an action in this conversation",
  "/msg NICK TEXT — a private message (/query NICK opens the conversation)",
  "/join #ROOM — join or create a room",
  "/part [REASON] — leave this room",
  "/nick NAME — change your nickname",
  "/topic [TEXT] — show or set this room's topic",
  "/who — who is in this room",
  "/rooms — list the rooms",
  "/search TEXT — search your rooms and private messages (from:NICK in:#ROOM after:DATE before:DATE)",
  "/quit [REASON] — leave the server",
  "Keys: Enter sends · Tab completes a nick · ↑ recalls your last line · Alt+↑/↓ moves between conversations · Ctrl+K joins a room · Esc closes panels",
].join("\n");

function words(rest) {
  const trimmed = rest.trim();
  const space = trimmed.search(/\s/u);
  if (space < 0) return [trimmed, ""];
  return [trimmed.slice(0, space), trimmed.slice(space + 1).trim()];
}

export function parseLine(line) {
  const text = line.replace(/\s+$/u, "");
  if (!text.trim()) return { kind: "nothing" };
  if (text.startsWith("//")) return { kind: "say", text: text.slice(1) };
  if (!text.startsWith("/")) return { kind: "say", text };
  const [name, rest] = words(text.slice(1));
  switch (name.toLowerCase()) {
    case "me":
      return rest ? { kind: "me", text: rest } : { kind: "usage", text: "/me ACTION" };
    case "msg": {
      const [nick, body] = words(rest);
      return nick && body ? { kind: "msg", nick, text: body } : { kind: "usage", text: "/msg NICK TEXT" };
    }
    case "query": {
      const [nick] = words(rest);
      return nick ? { kind: "query", nick } : { kind: "usage", text: "/query NICK" };
    }
    case "join":
    case "j": {
      const [room] = words(rest);
      return room ? { kind: "join", room } : { kind: "usage", text: "/join #ROOM" };
    }
    case "part":
    case "leave": {
      const [first, after] = words(rest);
      if (first.startsWith("#")) return { kind: "part", room: first, reason: after };
      return { kind: "part", room: null, reason: rest.trim() };
    }
    case "nick": {
      const [nick] = words(rest);
      return nick ? { kind: "nick", nick } : { kind: "usage", text: "/nick NAME" };
    }
    case "topic":
      return { kind: "topic", text: rest.trim() };
    case "who":
    case "names":
      return { kind: "who" };
    case "rooms":
    case "list":
      return { kind: "rooms" };
    case "search":
    case "find":
      return { kind: "search", text: rest.trim() };
    case "quit":
      return { kind: "quit", reason: rest.trim() };
    case "help":
    case "?":
      return { kind: "help" };
    default:
      return { kind: "unknown", name };
  }
}
