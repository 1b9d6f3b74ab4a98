import cf from "cloudfront";

// Handout's revocation check: a CloudFront Function (runtime cloudfront-js-2.0) on the distribution's
// viewer-request event, with Handout's KeyValueStore associated. Every signed link carries its share id
// as ?hid=<id>, inside the signed URL; revoking a share puts the id in the store until the link expires.
// It runs on every request, cache hits included, so a revoked link stops at once everywhere.
// Written for the runtime: ES 5.1 plus const/let, async/await and arrow functions; no for...of, no ?.
// and no Node APIs.

const kvs = cf.kvs();

// Share ids are base64url. Anything else in hid was not made by Handout.
const SHARE_ID = /^[A-Za-z0-9_-]{1,128}$/;

function answer(statusCode, statusDescription, text, retryAfterSeconds) {
  const headers = {
    "content-type": { value: "text/plain; charset=utf-8" },
    "cache-control": { value: "no-store" },
  };
  if (retryAfterSeconds) headers["retry-after"] = { value: String(retryAfterSeconds) };
  return {
    statusCode: statusCode,
    statusDescription: statusDescription,
    headers: headers,
    body: { encoding: "text", data: text },
  };
}

// Every value of hid: a repeated parameter arrives as multiValue.
function shareIds(querystring) {
  const hid = querystring ? querystring.hid : undefined;
  if (!hid) return [];
  const values = [];
  const all = hid.multiValue;
  if (Array.isArray(all) && all.length > 0) {
    for (let i = 0; i < all.length; i++) values.push(all[i].value);
  } else {
    values.push(hid.value);
  }
  return values;
}

function decoded(value) {
  try {
    return decodeURIComponent(String(value));
  } catch (_malformed) {
    return "";
  }
}

// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls the function named handler.
async function handler(event) {
  const request = event.request;
  const ids = shareIds(request.querystring);
  for (let i = 0; i < ids.length; i++) {
    const id = decoded(ids[i]);
    if (!SHARE_ID.test(id)) {
      return answer(403, "Forbidden", "This link is not valid. Ask the person who shared it for a new one.");
    }
    let revoked;
    try {
      revoked = await kvs.exists(id);
    } catch (error) {
      // Fail closed: a revoked link must never open, so when the list cannot be read the answer is
      // "try again", not the file. Errors here are rare and brief.
      console.log(`revocation check failed for ${id}: ${error}`);
      return answer(
        503,
        "Service Unavailable",
        "This link could not be checked just now. Try again in a minute.",
        30,
      );
    }
    if (revoked) {
      return answer(403, "Forbidden", "This link was revoked. Ask the person who shared it for a new one.");
    }
  }
  return request;
}
