import { expect, it } from "vitest";
import { typeLabel, type ResourceType } from "./catalogue";

const png: ResourceType = { url: "/api/resourcetype/1/", uuid: "1", mimetype: "image/png", description: "PNG image", extension: "png" };

it("names a resource type by its description and mimetype", () => {
  expect(typeLabel([png], "/api/resourcetype/1/")).toBe("PNG image (image/png)");
});

it("says when a type is not in the catalogue", () => {
  expect(typeLabel([png], "/api/resourcetype/2/")).toBe("Unknown type");
  expect(typeLabel([], null)).toBe("Unknown type");
});
