// The read-only registries (jobs, port types, resource types), fetched once per session.
import { API, get, type Json } from "./api";

export interface ResourceType {
  url: string;
  uuid: string;
  mimetype: string;
  description: string;
  extension: string;
}

let typesPromise: Promise<ResourceType[]> | null = null;
let jobsPromise: Promise<Json[]> | null = null;

export function resourceTypes(): Promise<ResourceType[]> {
  typesPromise ??= get<ResourceType[]>(API + "resourcetypes/?disable_pagination=true").catch((error) => {
    typesPromise = null;
    throw error;
  });
  return typesPromise;
}

export function jobs(): Promise<Json[]> {
  jobsPromise ??= get<Json[]>(API + "jobs/?enabled=True&disable_pagination=true").catch((error) => {
    jobsPromise = null;
    throw error;
  });
  return jobsPromise;
}

/** The type's description and mimetype, for people. */
export function typeLabel(types: ResourceType[], url: string | null): string {
  const type = types.find((t) => t.url === url);
  return type ? `${type.description} (${type.mimetype})` : "Unknown type";
}
