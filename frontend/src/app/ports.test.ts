import { describe, expect, it } from "vitest";
import type { ResourceType } from "./catalogue";
import { connectionRefusal, describeTypes, type PortInfo } from "./ports";

const PNG = "http://h/api/resourcetype/png/";
const ONEBIT = "http://h/api/resourcetype/onebit/";
const MEI = "http://h/api/resourcetype/mei/";
const types = [
  { url: PNG, description: "RGB PNG image" },
  { url: ONEBIT, description: "One-bit PNG image" },
  { url: MEI, description: "MEI document" },
] as ResourceType[];

function port(overrides: Partial<PortInfo> & { accepts?: string[]; list?: boolean }): PortInfo {
  const { accepts = [PNG], list = false, ...rest } = overrides;
  return {
    url: "http://h/api/port/" + Math.random(),
    label: "Image",
    type: { resource_types: accepts, is_list: list },
    direction: "out",
    job: "http://h/api/workflowjob/a/",
    jobName: "A",
    connected: false,
    ...rest,
  };
}

describe("connectionRefusal", () => {
  const output = port({ label: "Binarized", accepts: [ONEBIT, PNG] });
  const input = port({ label: "Page", direction: "in", job: "http://h/api/workflowjob/b/", accepts: [PNG] });

  it("accepts an output whose types meet the input's", () => {
    expect(connectionRefusal(output, input, types)).toBeNull();
  });

  it("wants an output on the left and an input on the right", () => {
    expect(connectionRefusal(input, output, types)).toBe("Connect an output port (right) to an input port (left).");
    expect(connectionRefusal(undefined, input, types)).toBe("Connect an output port (right) to an input port (left).");
  });

  it("refuses a job feeding itself and an input already fed", () => {
    expect(connectionRefusal(output, { ...input, job: output.job }, types)).toBe("A job cannot feed itself.");
    expect(connectionRefusal(output, { ...input, connected: true }, types)).toBe(
      "The input “Page” is already connected; remove that connection first.",
    );
  });

  it("refuses a list against single resources", () => {
    expect(connectionRefusal({ ...output, type: { ...output.type, is_list: true } }, input, types)).toBe(
      "“Binarized” and “Page” differ: one takes a list of resources, the other single resources.",
    );
  });

  it("names both sides' types when they have none in common", () => {
    const mei = port({ label: "Corrected", accepts: [MEI] });
    expect(connectionRefusal(mei, input, types)).toBe(
      "“Corrected” makes MEI document, which “Page” does not accept (RGB PNG image).",
    );
  });
});

describe("describeTypes", () => {
  it("uses descriptions, falls back to the URL, and says nothing for none", () => {
    expect(describeTypes([PNG, "http://h/api/resourcetype/x/"], types)).toBe("RGB PNG image, http://h/api/resourcetype/x/");
    expect(describeTypes([], types)).toBe("nothing");
    expect(describeTypes(undefined, types)).toBe("nothing");
  });
});
