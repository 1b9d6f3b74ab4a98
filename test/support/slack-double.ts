/**
 * A Slack Web API double on loopback: the real WebClient (given `slackApiUrl: double.apiUrl`) makes real
 * HTTP round trips to it. It answers from a small, mutable workspace the way Slack does (HTTP 200 with
 * `{ ok: true, ... }` or `{ ok: false, error }`), records every call, and can be told to fail.
 *
 * Every method checks the token like Slack: none → `not_authed`, not `options.token` → `invalid_auth`.
 * Form-encoded arguments arrive as strings (`limit: "2"`, `include_users: "true"`); values that are JSON
 * objects or arrays (`view`, `blocks`, …) are parsed back. The `token` argument is moved to `call.token`.
 *
 * By concern in slack-double/: server.ts (HTTP, tokens, faults, overrides), limits.ts (what Slack
 * refuses), and the methods in views.ts, chat.ts, conversations.ts, people.ts and socket-mode.ts.
 */
export { MESSAGE_BLOCKS_CHARACTERS, slackTextLength } from "./slack-double/limits.js";
export { startSlackDouble } from "./slack-double/server.js";
export type * from "./slack-double/types.js";
