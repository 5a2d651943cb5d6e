// The REST API as Rodan's client uses it: token auth (the token kept in the
// `token` cookie, which also lets <img>, downloads and EventSource through),
// JSON both ways, and every error turned into a sentence for the page.

export const API = "/api/";

export type Json = Record<string, any>;

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  current_page: number;
  total_pages: number;
  results: T[];
}

export function getToken(): string | null {
  const match = document.cookie.match(/(?:^|;\s*)token=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

export function setToken(token: string | null): void {
  if (token) document.cookie = `token=${encodeURIComponent(token)}; path=/; SameSite=Lax`;
  else document.cookie = "token=; path=/; max-age=0; SameSite=Lax";
}

/** An API failure, carrying a sentence a person can read and the reply's body for field errors. */
export class ApiError extends Error {
  constructor(message: string, public status: number, public body: any) {
    super(message);
  }
}

const FIELD_NAMES: Record<string, string> = {
  non_field_errors: "",
  detail: "",
  Error: "",
  message: "",
  new_password: "New password",
  current_password: "Current password",
  resource_assignments: "Inputs",
};

/** Flatten Rodan's error shapes ({"f":["msg"]}, {"detail"}, ["msg"], nested per item) into sentences. */
export function sentences(body: any, field = ""): string[] {
  if (body == null) return [];
  if (typeof body === "string") {
    const label = field && FIELD_NAMES[field] !== "" ? `${FIELD_NAMES[field] ?? humanize(field)}: ` : "";
    return [label + body];
  }
  if (Array.isArray(body)) return body.flatMap((item) => sentences(item, field));
  if (typeof body === "object") {
    if ("details" in body && Array.isArray(body.details)) return body.details.map(String);
    return Object.entries(body)
      .filter(([key]) => key !== "is_logged_in" && key !== "error_code" && key !== "associated_objects")
      .flatMap(([key, value]) => sentences(value, /^https?:|^\d+$/.test(key) ? field : key));
  }
  return [String(body)];
}

function humanize(field: string): string {
  const text = field.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function statusSentence(status: number): string {
  if (status === 401) return "You are not signed in, or your session has ended. Please sign in again.";
  if (status === 403) return "You are not allowed to do this.";
  if (status === 404) return "This no longer exists, or you cannot see it.";
  if (status === 413) return "This is too large for the server.";
  if (status === 507) return "The server's disk is full.";
  if (status >= 500) return "The server failed to answer. Please try again in a moment.";
  return `The server refused this (HTTP ${status}).`;
}

export function errorFromReply(status: number, body: any): ApiError {
  const text = sentences(body).filter(Boolean).join(" ");
  return new ApiError(text || statusSentence(status), status, body);
}

/** Turn any thrown value into a sentence. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server cannot be reached. Check your connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** A path under /api/ or an absolute API URL, reduced to a same-origin path (the host is ignored, as Rodan does). */
export function local(url: string): string {
  if (/^https?:\/\//.test(url)) {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  }
  return url.startsWith("/") ? url : API + url;
}

export async function request<T = any>(method: string, url: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Token ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const reply = await fetch(local(url), { method, headers, body: payload, ...init });
  const text = await reply.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = reply.ok ? text : null;
    }
  }
  if (!reply.ok) {
    if (reply.status === 401 && token) onUnauthorized();
    throw errorFromReply(reply.status, data);
  }
  return data as T;
}

/** A file from the API (the archive route needs the token header, which a plain link cannot send). */
export async function getBlob(url: string): Promise<Blob> {
  const token = getToken();
  const reply = await fetch(local(url), { headers: token ? { Authorization: `Token ${token}` } : {} });
  if (!reply.ok) {
    let body: any = null;
    try {
      body = await reply.json();
    } catch {
      body = null;
    }
    throw errorFromReply(reply.status, body);
  }
  return reply.blob();
}

export const get = <T = any>(url: string) => request<T>("GET", url);
export const post = <T = any>(url: string, body?: unknown) => request<T>("POST", url, body);
export const patch = <T = any>(url: string, body?: unknown) => request<T>("PATCH", url, body);
export const put = <T = any>(url: string, body?: unknown) => request<T>("PUT", url, body);
export const del = (url: string) => request("DELETE", url);

/** Every page of a paginated list (100 at a time). */
export async function all<T = any>(url: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | null = url + (url.includes("?") ? "&" : "?") + "page_size=100";
  while (next) {
    const page: Page<T> = await get<Page<T>>(next);
    items.push(...page.results);
    next = page.next;
  }
  return items;
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}


export function hex(uuid: string): string {
  return uuid.replace(/-/g, "");
}

/** Whether an address's id can name an object at all (32 hex digits, dashed or not). */
export function isUuid(text: string): boolean {
  return /^[0-9a-f]{32}$/i.test(hex(text));
}

/** Upload one file with progress (fetch reports none): resolves to the created resources. */
export function upload(projectUrl: string, file: File, onProgress: (fraction: number) => void): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", API + "resources/");
    xhr.setRequestHeader("Accept", "application/json");
    const token = getToken();
    if (token) xhr.setRequestHeader("Authorization", `Token ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let data: any = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(errorFromReply(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError("The upload was interrupted: the server cannot be reached.", 0, null));
    const form = new FormData();
    form.append("project", projectUrl);
    form.append("files", file, file.name);
    xhr.send(form);
  });
}

export const STATUS: Record<string, string> = {
  "0": "Scheduled",
  "1": "Processing",
  "2": "Waiting for input",
  "4": "Finished",
  "8": "Expired",
  "9": "Cancelled",
  "11": "Retrying",
  "21": "Starting",
  "29": "Cancelling",
  "31": "Retrying",
  "-1": "Failed",
};

export function statusName(status: number | null | undefined): string {
  if (status === null || status === undefined) return "Ready";
  return STATUS[String(status)] ?? `Status ${status}`;
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  return isNaN(date.getTime()) ? value : date.toLocaleString();
}
