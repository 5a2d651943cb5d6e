// Small shared pieces: error sentences, progress, status badges, downloads, the hook that runs an action.
import { useCallback, useState } from "react";
import { describe } from "./api";

export function ErrorText({ error, id }: { error: string | null; id?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" id={id}>
      {error}
    </p>
  );
}

export function Progress({ label, value }: { label: string; value?: number }) {
  return (
    <p className="progress" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
      {value !== undefined && <progress max={1} value={value} aria-label={label} />}
    </p>
  );
}

/** Run an async action: tracks busy state and turns failures into a sentence. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (exc) {
      setError(describe(exc));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}


export function StatusBadge({ status, label }: { status: number | null; label: string }) {
  const kind =
    status === 4 ? "done" : status === -1 ? "failed" : status === 2 ? "waiting" : status === 9 ? "cancelled" : status === 1 ? "running" : "pending";
  return <span className={`badge badge-${kind}`}>{label}</span>;
}

/** Save a Blob under a file name (the browser's download). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
