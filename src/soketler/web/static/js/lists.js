// The side lists: conversations (with unread counts) and the people in a room.

import { Kind } from "./model.js";
import { initial, nickColour } from "./render.js";
import { TEXT } from "./texts.js";

const SVG = "http://www.w3.org/2000/svg";
const CROSS = "M6 6l12 12M18 6L6 18";

function icon(path) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS(SVG, "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

function avatar(nick) {
  const element = document.createElement("span");
  element.className = `avatar ${nickColour(nick)}`;
  element.textContent = initial(nick);
  return element;
}

// One <li> of the conversation list; `open` and `leave` are called with the conversation.
export function conversationItem(conversation, active, { open, leave }) {
  const item = document.createElement("li");
  item.dataset.id = conversation.id;
  item.classList.toggle("active", active);
  item.classList.toggle("unread", conversation.unread > 0);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "conv";
  if (active) button.setAttribute("aria-current", "page");
  const room = conversation.kind === Kind.ROOM;
  let sigil;
  if (room) {
    sigil = document.createElement("span");
    sigil.className = "sigil";
    sigil.textContent = "#";
  } else {
    sigil = avatar(conversation.name);
  }
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = room ? conversation.name.replace(/^#/u, "") : conversation.name;
  button.append(sigil, name);
  if (conversation.unread) {
    const badge = document.createElement("span");
    badge.className = conversation.mentions ? "badge hot" : "badge";
    badge.textContent = conversation.unread > 99 ? "99+" : String(conversation.unread);
    badge.setAttribute("aria-label", TEXT.unread(conversation.unread));
    button.append(badge);
  }
  button.addEventListener("click", () => open(conversation));
  const part = document.createElement("button");
  part.type = "button";
  part.className = "part";
  const label = room ? TEXT.leaveRoom(conversation.name) : TEXT.closePrivate(conversation.name);
  part.setAttribute("aria-label", label);
  part.title = label;
  part.append(icon(CROSS));
  part.addEventListener("click", () => leave(conversation));
  item.append(button, part);
  return item;
}

// <li>s of the people list, in the order given; `pick` is called with a nick that is
// not the reader's own.
export function memberItems(nicks, isMe, pick) {
  return nicks.map((nick) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = nick;
    button.append(avatar(nick), name);
    if (isMe(nick)) {
      const you = document.createElement("span");
      you.className = "you";
      you.textContent = TEXT.you;
      button.append(you);
      button.disabled = true;
    } else {
      button.addEventListener("click", () => pick(nick));
    }
    item.append(button);
    return item;
  });
}
