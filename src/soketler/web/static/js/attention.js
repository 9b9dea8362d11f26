// Getting the reader's attention while they look elsewhere: a count in the tab's title
// and, for mentions and private messages, a browser notification (asked for once).

const ASKED_KEY = "soketler.notifications-asked";
const APP_NAME = "soketler";

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage turned off: remember nothing
  }
}

export function remember(key, value) {
  try {
    storage()?.setItem(key, value);
  } catch {
    // full or refused: not worth bothering the reader about
  }
}

export function recall(key) {
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export class Attention {
  constructor() {
    this.unseen = 0;
    this.label = "";
    document.addEventListener("visibilitychange", () => {
      if (!this.away()) {
        this.unseen = 0;
        this.update();
      }
    });
  }

  away() {
    return document.visibilityState === "hidden";
  }

  setLabel(label) {
    this.label = label;
    this.update();
  }

  // A live message from someone else arrived; `worthIt` when it is in the open
  // conversation, mentions the reader or is private.
  arrived(worthIt) {
    if (this.away() && worthIt) {
      this.unseen += 1;
      this.update();
    }
  }

  update() {
    const prefix = this.unseen ? `(${this.unseen}) ` : "";
    document.title = this.label ? `${prefix}${this.label} · ${APP_NAME}` : `${prefix}${APP_NAME}`;
  }

  // Called from a click or key press: browsers only show the question after one.
  askOnce() {
    if (!("Notification" in window) || Notification.permission !== "default") return;
    if (recall(ASKED_KEY)) return;
    remember(ASKED_KEY, "1");
    Promise.resolve(Notification.requestPermission()).catch(() => {});
  }

  notify(title, body, tag, onClick) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (!this.away() && document.hasFocus()) return;
    try {
      const notification = new Notification(title, { body, tag });
      notification.addEventListener("click", () => {
        window.focus();
        onClick();
        notification.close();
      });
    } catch {
      // Some browsers allow notifications only from a service worker; the title count stays.
    }
  }
}
