import { describe as group, expect, it } from "vitest";
import { ApiError, describe, errorFromReply, isUuid, local, query, sentences, statusName } from "./api";

group("sentences", () => {
  it("labels field errors with a readable field name", () => {
    expect(sentences({ name: ["This field is required."] })).toEqual(["Name: This field is required."]);
    expect(sentences({ new_password: ["Too short."] })).toEqual(["New password: Too short."]);
    expect(sentences({ resource_assignments: ["Missing."] })).toEqual(["Inputs: Missing."]);
  });

  it("gives detail, Error and non-field errors without a label", () => {
    expect(sentences({ detail: "Not found." })).toEqual(["Not found."]);
    expect(sentences({ Error: "In use." })).toEqual(["In use."]);
    expect(sentences({ non_field_errors: ["Bad pair."] })).toEqual(["Bad pair."]);
  });

  it("keeps the field of errors nested under URLs or indexes", () => {
    expect(sentences({ resources: { "0": ["Wrong project."] } })).toEqual(["Resources: Wrong project."]);
    expect(sentences({ "http://x/api/inputport/1/": { label: ["Too long."] } })).toEqual(["Label: Too long."]);
  });

  it("uses a details list as is and skips bookkeeping keys", () => {
    expect(sentences({ details: ["One.", "Two."], error_code: "X" })).toEqual(["One.", "Two."]);
    expect(sentences({ message: "Hi.", error_code: "WFJ_TOO_MANY", is_logged_in: false })).toEqual(["Hi."]);
  });

  it("flattens arrays and stringifies other values", () => {
    expect(sentences(["a", ["b"]])).toEqual(["a", "b"]);
    expect(sentences(3)).toEqual(["3"]);
    expect(sentences(null)).toEqual([]);
  });
});

group("errorFromReply", () => {
  it("joins the body's sentences", () => {
    const error = errorFromReply(400, { name: ["Required."], detail: "Check the form." });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("Name: Required. Check the form.");
    expect(error.status).toBe(400);
  });

  it("falls back to a sentence per HTTP status when the body says nothing", () => {
    expect(errorFromReply(401, null).message).toMatch(/not signed in/);
    expect(errorFromReply(403, {}).message).toBe("You are not allowed to do this.");
    expect(errorFromReply(404, "").message).toMatch(/no longer exists/);
    expect(errorFromReply(413, null).message).toMatch(/too large/);
    expect(errorFromReply(507, null).message).toMatch(/disk is full/);
    expect(errorFromReply(502, null).message).toMatch(/failed to answer/);
    expect(errorFromReply(418, null).message).toBe("The server refused this (HTTP 418).");
  });

  it("never shows a traceback page's HTML: a 500 without JSON is a sentence", () => {
    expect(errorFromReply(500, null).message).not.toContain("<");
  });
});

group("describe", () => {
  it("turns a network failure into a sentence", () => {
    expect(describe(new TypeError("Failed to fetch"))).toMatch(/cannot be reached/);
  });
  it("keeps API and other errors' messages", () => {
    expect(describe(new ApiError("Refused.", 400, null))).toBe("Refused.");
    expect(describe(new Error("Plain."))).toBe("Plain.");
    expect(describe("text")).toBe("text");
  });
});

group("query and local", () => {
  it("drops empty values and encodes the rest", () => {
    expect(query({ a: "x y", b: "", c: null, d: undefined, e: 0, f: false })).toBe("?a=x%20y&e=0&f=false");
    expect(query({})).toBe("");
  });
  it("reduces absolute API URLs to same-origin paths", () => {
    expect(local("http://elsewhere:8000/api/project/1/?page=2")).toBe("/api/project/1/?page=2");
    expect(local("/api/jobs/")).toBe("/api/jobs/");
    expect(local("jobs/")).toBe("/api/jobs/");
  });
});

group("statusName", () => {
  it("names Rodan's numeric statuses", () => {
    expect(statusName(2)).toBe("Waiting for input");
    expect(statusName(-1)).toBe("Failed");
    expect(statusName(null)).toBe("Ready");
    expect(statusName(77)).toBe("Status 77");
  });
});

group("isUuid", () => {
  it("takes the API's ids dashed or not, and nothing else", () => {
    expect(isUuid("0f8fad5b-d9cb-469f-a165-70867728950e")).toBe(true);
    expect(isUuid("0f8fad5bd9cb469fa16570867728950e")).toBe(true);
    expect(isUuid("0f8fad5b-d9cb-469f-a165-70867728950")).toBe(false);
    expect(isUuid("not-a-project")).toBe(false);
  });
});
