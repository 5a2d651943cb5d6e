// A sentence one page leaves for the next (e.g. "your input was submitted" for the run page), shown once.
let pending: string | null = null;

export function leaveNotice(text: string): void {
  pending = text;
}

/** The sentence left for this page, forgotten once taken. */
export function takeNotice(): string | null {
  const text = pending;
  pending = null;
  return text;
}
