// Tab completion of nicknames in the message box; Tab again cycles through the matches.

import { fold } from "./model.js";

export class NickCompletion {
  constructor() {
    this.state = null;
  }

  reset() {
    this.state = null;
  }

  // Completes the word before the caret of `input` from `names`. A nick that starts
  // the line gets ": " after it, as people address each other in chat.
  complete(input, names) {
    const value = input.value;
    const caret = input.selectionStart ?? value.length;
    let state = this.state;
    if (!state || state.caret !== caret || state.value !== value) {
      const start = value.slice(0, caret).search(/[^\s]*$/u);
      const prefix = fold(value.slice(start, caret));
      if (!prefix) return false;
      const matches = names.filter((n) => fold(n).startsWith(prefix)).sort((a, b) => fold(a).localeCompare(fold(b)));
      if (!matches.length) return false;
      state = { start, matches, index: -1, tail: value.slice(caret) };
    }
    state.index = (state.index + 1) % state.matches.length;
    const head = value.slice(0, state.start) + state.matches[state.index] + (state.start === 0 ? ": " : " ");
    input.value = head + state.tail;
    input.setSelectionRange(head.length, head.length);
    state.caret = head.length;
    state.value = input.value;
    this.state = state;
    return true;
  }
}
