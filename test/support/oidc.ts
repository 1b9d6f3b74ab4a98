import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/**
 * A real OpenID Connect provider on loopback in place of Slack's, issuing Slack's claims. Its
 * development sign-in form takes any login: `U0BOB` signs in as U0BOB of `teamId`, `U0BOB@T0OTHER`
 * as U0BOB of another workspace.
 */
export interface TestIdentityProvider {
  readonly issuer: string;
  stop(): Promise<void>;
}

export async function startIdentityProvider(options: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  teamId: string;
}): Promise<TestIdentityProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    scopes: ["openid", "profile"],
    claims: {
      openid: ["sub", "https://slack.com/team_id", "https://slack.com/user_id"],
      profile: ["name"],
    },
    // Slack puts its claims in the ID token itself.
    conformIdTokenClaims: false,
    ttl: { IdToken: 300 },
    cookies: { keys: ["test-provider-cookie-key"] },
    findAccount: async (_ctx: unknown, login: string) => {
      const [userId, team] = login.split("@");
      return {
        accountId: login,
        claims: async () => ({
          sub: login,
          name: userId,
          "https://slack.com/user_id": userId,
          "https://slack.com/team_id": team ?? options.teamId,
        }),
      };
    },
  });
  server.on("request", provider.callback());
  return {
    issuer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
