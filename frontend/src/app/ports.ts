// Which output port may feed which input port: the editor's one rule for connections, kept out of
// the component so the highlight while dragging, the drop and the keyboard list all ask it alike.
import type { Json } from "./api";
import type { ResourceType } from "./catalogue";

/** A workflow job's port as the editor sees it (its type is the catalogue's port type). */
export interface PortInfo {
  url: string;
  label: string;
  type: Json;
  direction: "in" | "out";
  job: string;
  jobName: string;
  connected: boolean;
}

/** The resource types' descriptions, for a sentence ("nothing" for none). */
export function describeTypes(urls: string[] | undefined, types: ResourceType[]): string {
  return (urls ?? []).map((url) => types.find((t) => t.url === url)?.description ?? url).join(", ") || "nothing";
}

/** Null when `output` may feed `input`; otherwise the sentence that says why not. */
export function connectionRefusal(output: PortInfo | undefined, input: PortInfo | undefined, types: ResourceType[]): string | null {
  if (!output || !input || output.direction !== "out" || input.direction !== "in") return "Connect an output port (right) to an input port (left).";
  if (output.job === input.job) return "A job cannot feed itself.";
  if (input.connected) return `The input “${input.label}” is already connected; remove that connection first.`;
  if (!!output.type.is_list !== !!input.type.is_list)
    return `“${output.label}” and “${input.label}” differ: one takes a list of resources, the other single resources.`;
  const made: string[] = output.type.resource_types ?? [];
  const accepted: string[] = input.type.resource_types ?? [];
  if (!made.some((type) => accepted.includes(type)))
    return `“${output.label}” makes ${describeTypes(made, types)}, which “${input.label}” does not accept (${describeTypes(accepted, types)}).`;
  return null;
}
