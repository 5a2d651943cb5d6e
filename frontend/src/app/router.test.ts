import { describe, expect, it } from "vitest";
import { match } from "./router";

describe("match", () => {
  it("returns the named parameters of a matching path", () => {
    expect(match("/projects/:id/:tab", "/projects/abc/runs")).toEqual({ id: "abc", tab: "runs" });
  });

  it("accepts one trailing slash", () => {
    expect(match("/runs/:id", "/runs/42/")).toEqual({ id: "42" });
  });

  it("refuses a path with more or fewer segments", () => {
    expect(match("/projects/:id", "/projects/abc/runs")).toBeNull();
    expect(match("/projects/:id/:tab", "/projects/abc")).toBeNull();
    expect(match("/runs/:id", "/runsx/1")).toBeNull();
  });

  it("never lets a parameter span a slash", () => {
    expect(match("/runs/:id", "/runs/a/b")).toBeNull();
  });

  it("decodes percent-escapes in parameters", () => {
    expect(match("/workflows/:id", "/workflows/a%20b")).toEqual({ id: "a b" });
  });

  it("matches a pattern without parameters only exactly", () => {
    expect(match("/preferences", "/preferences")).toEqual({});
    expect(match("/preferences", "/preferences/more")).toBeNull();
  });

  it("matches the in-app interactive page and not the run page for it", () => {
    expect(match("/runs/:run/interactive/:runjob", "/runs/r2/interactive/j3")).toEqual({ run: "r2", runjob: "j3" });
    expect(match("/runs/:id", "/runs/r2/interactive/j3")).toBeNull();
  });
});
