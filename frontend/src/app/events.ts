// The project's event stream (GET /api/project/<u>/events/, Server-Sent Events; the `token`
// cookie authenticates EventSource). Pages poll only while the stream is down.
import { useEffect, useRef, useState } from "react";
import { API } from "./api";

export type EventKind = "runjob" | "workflowrun" | "resource" | "resultspackage";
export type Handler = (kind: EventKind, data: any) => void;

/**
 * Follow a project's events. Returns whether the stream is open; `fallback` is called every
 * `pollMs` while it is not (never while it is open).
 */
export function useProjectEvents(projectUuid: string | null, handler: Handler, fallback?: () => void, pollMs = 5000): boolean {
  const [open, setOpen] = useState(false);
  const handlerRef = useRef(handler);
  const fallbackRef = useRef(fallback);
  handlerRef.current = handler;
  fallbackRef.current = fallback;
  useEffect(() => {
    if (!projectUuid) return;
    const source = new EventSource(`${API}project/${projectUuid}/events/`);
    const kinds: EventKind[] = ["runjob", "workflowrun", "resource", "resultspackage"];
    for (const kind of kinds) {
      source.addEventListener(kind, (event) => {
        try {
          handlerRef.current(kind, JSON.parse((event as MessageEvent).data));
        } catch {
          /* a malformed event is ignored; the next poll or event corrects the page */
        }
      });
    }
    source.onopen = () => setOpen(true);
    source.onerror = () => setOpen(false);
    return () => {
      source.close();
      setOpen(false);
    };
  }, [projectUuid]);
  useEffect(() => {
    if (open || !fallbackRef.current) return;
    const timer = setInterval(() => fallbackRef.current?.(), pollMs);
    return () => clearInterval(timer);
  }, [open, pollMs]);
  return open;
}
