// Keeping the reader's place in the message log while entries come and go.

export const NEAR_TOP_PX = 160; // this close to the top, the next older page is fetched
const NEAR_BOTTOM_PX = 48; // this close to the end, new messages keep the view at the end

export function atBottom(log) {
  return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
}

export function nearTop(log) {
  return log.scrollTop < NEAR_TOP_PX;
}

// Where the reader is: at the end, or so many pixels above it.
export function place(log) {
  return { atBottom: atBottom(log), fromBottom: log.scrollHeight - log.scrollTop };
}

// After an insertion: an entry added at the end keeps a reader who was at the end
// there, and moves no one else; an entry inserted higher up (older history) must not
// move what the reader looks at, so the distance from the end is kept.
export function keep(log, where, atEnd) {
  if (where.atBottom) log.scrollTop = log.scrollHeight;
  else if (!atEnd) log.scrollTop = log.scrollHeight - where.fromBottom;
}
