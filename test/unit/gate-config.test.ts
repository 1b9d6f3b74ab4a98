import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

const S3 = {
  HANDOUT_BUCKET: "team-files",
  CLOUDFRONT_DOMAIN: "d111111abcdef8.cloudfront.net",
  CLOUDFRONT_PUBLIC_KEY_ID: "K2JCJMDEHXQW5F",
  CLOUDFRONT_PRIVATE_KEY_FILE: "/keys/private_key.pem",
  SLACK_BOT_TOKEN: "xoxb-1",
  SLACK_APP_TOKEN: "xapp-1",
};
const GATE = {
  HANDOUT_PUBLIC_URL: "https://files.example.com/",
  SLACK_CLIENT_ID: "1234567890.1234567890",
  SLACK_CLIENT_SECRET: "0123456789abcdef",
  HANDOUT_SESSION_SECRET: "x".repeat(32),
};

const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadConfig(env, { storage: "complete", slack: "required" });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("the configuration was accepted");
};

describe("the gate's settings", () => {
  it("are read with Slack as the default issuer and no trailing slash on the public address", () => {
    const config = loadConfig({ ...S3, ...GATE }, { storage: "complete", slack: "required" });
    expect(config.gate).toEqual({
      publicUrl: "https://files.example.com",
      clientId: "1234567890.1234567890",
      clientSecret: "0123456789abcdef",
      sessionSecret: "x".repeat(32),
      issuer: "https://slack.com",
    });
    expect(loadConfig({ ...S3, ...GATE, SLACK_OIDC_ISSUER: "https://slack-gov.com" }).gate?.issuer).toBe(
      "https://slack-gov.com",
    );
  });

  it("are off without HANDOUT_PUBLIC_URL, so that members-only links are not offered", () => {
    const { HANDOUT_PUBLIC_URL: _, ...rest } = GATE;
    expect(loadConfig({ ...S3, ...rest }).gate).toBeUndefined();
  });

  it("stay off in the embedded default when only the address of its own links is set", () => {
    expect(loadConfig({ HANDOUT_PUBLIC_URL: "http://localhost:3000" }).gate).toBeUndefined();
  });

  it("name what is missing once a public address asks for the gate", () => {
    const problems = problemsOf({ ...S3, HANDOUT_PUBLIC_URL: "https://files.example.com" });
    expect(problems.join("\n")).toMatch(/SLACK_CLIENT_ID is not set/);
    expect(problems.join("\n")).toMatch(/SLACK_CLIENT_SECRET is not set/);
    expect(problems.join("\n")).toMatch(
      /HANDOUT_SESSION_SECRET is not set: .*every replica needs the same one/,
    );
  });

  it("leave the session secret to the embedded default, which keeps its own", () => {
    const config = loadConfig({ ...GATE, HANDOUT_SESSION_SECRET: undefined, SLACK_BOT_TOKEN: "xoxb-1" });
    expect(config.storage.mode).toBe("local");
    expect(config.gate?.sessionSecret).toBeUndefined();
  });

  it("refuse a short session secret and a public address without HTTPS, without repeating the secret", () => {
    const problems = problemsOf({
      ...S3,
      ...GATE,
      HANDOUT_SESSION_SECRET: "short-s3cr3t",
    });
    expect(problems.join("\n")).toMatch(/HANDOUT_SESSION_SECRET must be at least 32 characters/);
    expect(problems.join("\n")).not.toMatch(/s3cr3t/);
    const plain = problemsOf({ ...S3, ...GATE, HANDOUT_PUBLIC_URL: "http://files.example.com" });
    expect(plain.join("\n")).toMatch(/HANDOUT_PUBLIC_URL must start with https:\/\//);
  });

  it("refuse a client ID that is not Slack's", () => {
    expect(problemsOf({ ...S3, ...GATE, SLACK_CLIENT_ID: "my-app" }).join("\n")).toMatch(
      /SLACK_CLIENT_ID must be the Slack app's client ID/,
    );
  });
});
