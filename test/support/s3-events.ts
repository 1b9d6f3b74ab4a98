/** An S3 object event as EventBridge delivers it (the shape of S3's documented examples). */
export function s3Event(
  kind: "Object Created" | "Object Deleted",
  key: string,
  sequencer: string,
  options: { bucket?: string; size?: number; time?: string } = {},
) {
  const bucket = options.bucket ?? "handout-files";
  return {
    version: "0",
    id: `event-${key}-${sequencer}`,
    "detail-type": kind,
    source: "aws.s3",
    account: "111122223333",
    time: options.time ?? "2026-11-12T10:00:00Z",
    region: "eu-west-1",
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: "0",
      bucket: { name: bucket },
      object: {
        key,
        ...(kind === "Object Created"
          ? { size: options.size ?? 5, etag: "b1946ac92492d2347c6235b4d2611184" }
          : {}),
        sequencer,
      },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "111122223333",
      reason: kind === "Object Created" ? "PutObject" : "DeleteObject",
      ...(kind === "Object Deleted" ? { "deletion-type": "Permanently Deleted" } : {}),
    },
  };
}
