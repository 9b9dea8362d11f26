// The room list and the people list: beside the chat on a wide screen, drawers over it
// on a narrow one (with a dimmed backdrop that closes them).

const WIDE = window.matchMedia("(min-width: 1100px)"); // the people list fits beside the chat
const NARROW = window.matchMedia("(max-width: 719px)"); // the room list is a drawer

export class Panels {
  constructor(ui) {
    this.ui = ui;
    ui.menuButton.addEventListener("click", () => this.setSidebar(ui.app.dataset.sidebar !== "open"));
    ui.closeSidebar.addEventListener("click", () => this.setSidebar(false));
    ui.membersButton.addEventListener("click", () => this.setMembers(ui.app.dataset.members !== "open"));
    ui.scrim.addEventListener("click", () => this.closeDrawers());
    WIDE.addEventListener("change", () => this.setMembers(WIDE.matches));
    NARROW.addEventListener("change", () => this.setSidebar(false));
    this.setMembers(WIDE.matches);
    this.setSidebar(false);
  }

  get narrow() {
    return NARROW.matches;
  }

  setMembers(open) {
    this.ui.app.dataset.members = open ? "open" : "closed";
    this.ui.membersButton.setAttribute("aria-expanded", String(open));
    this.updateScrim();
  }

  setSidebar(open) {
    this.ui.app.dataset.sidebar = open ? "open" : "closed";
    this.ui.menuButton.setAttribute("aria-expanded", String(open));
    this.updateScrim();
  }

  // Closes whatever covers the chat; on a wide screen the people list stays.
  closeDrawers() {
    this.setSidebar(false);
    if (!WIDE.matches) this.setMembers(false);
  }

  updateScrim() {
    const app = this.ui.app.dataset;
    const overMembers = !WIDE.matches && app.members === "open";
    const overSidebar = NARROW.matches && app.sidebar === "open";
    this.ui.scrim.hidden = !(overSidebar || overMembers);
  }
}
