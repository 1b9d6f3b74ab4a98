import {
  CloudFrontKeyValueStoreClient,
  DescribeKeyValueStoreCommand,
  ListKeysCommand,
  PutKeyCommand,
} from "@aws-sdk/client-cloudfront-keyvaluestore";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignedUrl } from "../../src/links/cloudfront-verify.js";
import { SHARE_ID_PARAM } from "../../src/signing/cloudfront-signer.js";
import { load, viewerRequestFor } from "../support/cloudfront-function.js";
import { buttonsOf, type Harness, type Steps, useHarness } from "../support/handout-harness.js";

const KVS_ARN = "arn:aws:cloudfront::123456789012:key-value-store/0f4a2b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c";

// No local KeyValueStore server exists: the store's API is recorded at the client, the rest is real.
const kvs = mockClient(CloudFrontKeyValueStoreClient);
let h: Harness;
let steps: Steps;

beforeAll(() => {
  kvs.on(DescribeKeyValueStoreCommand).resolves({ ETag: "etag-1", KvsARN: KVS_ARN });
  kvs.on(PutKeyCommand).resolves({ ETag: "etag-2", ItemCount: 1, TotalSizeInBytes: 64 });
  kvs.on(ListKeysCommand).resolves({ Items: [] });
});
useHarness(
  (ready) => {
    ({ h, steps } = ready);
  },
  { HANDOUT_REVOCATION_KVS_ARN: KVS_ARN },
);
afterAll(() => {
  kvs.restore();
});

async function shareOne(file: string) {
  h.slack.reset();
  const { view } = await steps.share("U0ANA", "C0GENERAL");
  await steps.submit(view, "U0ANA", { files: [`k:${file}`] });
  const posted = await h.slack.waitFor("chat.postMessage");
  await steps.outcome(view);
  const url = buttonsOf(posted)[0] as string;
  return { url, shareId: new URL(url).searchParams.get(SHARE_ID_PARAM) as string };
}

describe("revocation end to end", () => {
  it("edits the message, puts the id in the store, and the CloudFront Function then refuses that link only", async () => {
    const revoked = await shareOne("reports/q1 2026.pdf");
    const kept = await shareOne("reports/2026/q2.pdf");

    h.slack.reset();
    await h.requests.interaction(
      h.requests.blockActions({
        user: "U0ANA",
        actions: [{ action_id: "handout_revoke", type: "button", value: revoked.shareId }],
        view: { type: "home" },
      }),
    );
    const update = await h.slack.waitFor("chat.update");
    expect(JSON.stringify(update.args.blocks)).toContain("revoked by <@U0ANA>");
    const notice = await h.slack.waitFor("views.publish", (call) =>
      JSON.stringify(call.args.view).includes(":no_entry:"),
    );
    expect(JSON.stringify(notice.args.view)).toContain(
      "Revoked. The links are gone from the message. Those links no longer open.",
    );

    const puts = kvs.commandCalls(PutKeyCommand).map((call) => call.args[0].input);
    expect(puts).toEqual([
      expect.objectContaining({ KvsARN: KVS_ARN, Key: revoked.shareId, IfMatch: "etag-1" }),
    ]);

    // The function, fed what the store now holds, as CloudFront runs it on each request.
    const edge = load(new Set(puts.map((put) => put.Key as string)));
    const refused = (await edge.run(viewerRequestFor(revoked.url))) as { statusCode: number };
    expect(refused.statusCode).toBe(403);
    const passed = viewerRequestFor(kept.url);
    expect(await edge.run(passed)).toEqual(passed.request);
  });

  it("retries the deny list on a second revoke when the first could not reach it", async () => {
    const { shareId } = await shareOne("reports/2026/q2 draft.pdf");
    kvs.on(PutKeyCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const revoke = () =>
      h.requests.interaction(
        h.requests.blockActions({
          user: "U0ANA",
          actions: [{ action_id: "handout_revoke", type: "button", value: shareId }],
          view: { type: "home" },
        }),
      );
    const puts = () => kvs.commandCalls(PutKeyCommand).filter((call) => call.args[0].input.Key === shareId);
    h.slack.reset();
    await revoke();
    const failed = await h.slack.waitFor("views.publish", (call) =>
      JSON.stringify(call.args.view).includes(":warning:"),
    );
    expect(JSON.stringify(failed.args.view)).toContain("CloudFront's deny list could not be updated");
    expect(JSON.stringify(failed.args.view)).not.toContain("123456789012");
    expect(puts().length).toBeGreaterThanOrEqual(1);
    const attempts = puts().length;
    kvs.on(PutKeyCommand).resolves({ ETag: "etag-3", ItemCount: 2, TotalSizeInBytes: 128 });
    h.slack.reset();
    await revoke();
    await h.slack.waitFor("views.publish", (call) =>
      JSON.stringify(call.args.view).includes("already revoked"),
    );
    expect(puts()).toHaveLength(attempts + 1);
  });

  it("cannot be dodged by removing or changing the share id: the signature no longer verifies", async () => {
    const { url, shareId } = await shareOne("reports/q1 2026.pdf");
    const keys = new Map([[h.pair.keyPairId, h.pair.publicKey]]);
    expect(verifySignedUrl(url, keys, new Date()).ok).toBe(true);
    expect(verifySignedUrl(url.replace(`${SHARE_ID_PARAM}=${shareId}&`, ""), keys, new Date())).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    const other = `${shareId.slice(0, -1)}${shareId.endsWith("A") ? "B" : "A"}`;
    expect(verifySignedUrl(url.replace(shareId, other), keys, new Date())).toEqual({
      ok: false,
      reason: "bad-signature",
    });
  });
});
