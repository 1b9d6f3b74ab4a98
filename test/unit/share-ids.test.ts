import { describe, expect, it } from "vitest";
import { isShareId, newShareId } from "../../src/domain/share-id.js";

describe("share ids", () => {
  it("are 22 URL-safe characters and differ every time", () => {
    const ids = Array.from({ length: 1000 }, newShareId);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(isShareId(id)).toBe(true);
    }
    expect(isShareId("../../etc")).toBe(false);
    expect(isShareId(`${ids[0]}x`)).toBe(false);
  });
});
