import type * as Oidc from "openid-client";
import type { GateSettings } from "../config/config.js";
import { HandoutError } from "../domain/errors.js";
import type { SignInProvider } from "../links/gate/gate.js";

const TEAM_CLAIM = "https://slack.com/team_id";
const USER_CLAIM = "https://slack.com/user_id";

/** Loopback only: an issuer on this machine (a local provider) needs no TLS; anywhere else it must have it. */
const isLoopback = (url: URL) => ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);

/**
 * Sign in with Slack through `openid-client`: the endpoints come from the issuer's discovery document,
 * read on the first sign-in (and again after a failure), so that Handout starts while Slack is away.
 * The library is loaded then too: a start (a Lambda's cold start above all) that signs nobody in does
 * not compile it.
 */
export function slackSignIn(gate: GateSettings): SignInProvider & { readonly redirectUri: string } {
  const redirectUri = `${gate.publicUrl}/o/callback`;
  const issuer = new URL(gate.issuer);
  let discovered: Promise<{ oidc: typeof Oidc; config: Oidc.Configuration }> | undefined;
  const configuration = () => {
    discovered ??= import("openid-client")
      .then(async (oidc) => {
        const config = await oidc.discovery(issuer, gate.clientId, gate.clientSecret, undefined, {
          ...(issuer.protocol === "http:" && isLoopback(issuer)
            ? { execute: [oidc.allowInsecureRequests] }
            : {}),
          timeout: 5,
        });
        return { oidc, config };
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw new HandoutError(
          "STORAGE_UNAVAILABLE",
          `Could not read the sign-in settings of ${gate.issuer} (${(error as Error).message}): check SLACK_OIDC_ISSUER and the network.`,
          { cause: error },
        );
      });
    return discovered;
  };
  // Slack's document names no PKCE methods; state and nonce protect the flow there.
  const pkce = (config: Oidc.Configuration) => config.serverMetadata().supportsPKCE();
  return {
    redirectUri,
    async authorizationUrl(checks) {
      const { oidc, config } = await configuration();
      const parameters: Record<string, string> = {
        redirect_uri: redirectUri,
        scope: "openid profile",
        response_type: "code",
        state: checks.state,
        nonce: checks.nonce,
      };
      if (checks.codeVerifier && pkce(config)) {
        parameters.code_challenge = await oidc.calculatePKCECodeChallenge(checks.codeVerifier);
        parameters.code_challenge_method = "S256";
      }
      return oidc.buildAuthorizationUrl(config, parameters);
    },
    async finish(callbackUrl, checks) {
      const { oidc, config } = await configuration();
      // The callback arrives on Handout's public address, whatever host the request line named.
      const current = new URL(`${redirectUri}${callbackUrl.search}`);
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: pkce(config) ? checks.codeVerifier : undefined,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      // openid-client checked signature, audience, expiry and nonce; the issuer is compared as a string.
      if (!claims || claims.iss !== gate.issuer) throw new Error("the ID token names another issuer");
      const userId = claims[USER_CLAIM] ?? claims.sub;
      const teamId = claims[TEAM_CLAIM];
      if (typeof userId !== "string" || typeof teamId !== "string") {
        throw new Error("the ID token does not say which person and workspace");
      }
      return { userId, teamId };
    },
  };
}
