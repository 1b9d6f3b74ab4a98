import { generateKeyPairSync } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { HandoutError } from "../domain/errors.js";
import { type CliIo, UsageError } from "./io.js";

export const KEYS_USAGE = "keys generate [--out DIR]";

async function writeNew(path: string, content: string, mode: number): Promise<void> {
  try {
    await writeFile(path, content, { mode, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new HandoutError(
        "CONFIG_INVALID",
        `${path} already exists: Handout never overwrites a key. Choose another --out folder, or move the old files away first.`,
      );
    }
    throw error;
  }
}

export async function keysCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: "string" } },
  });
  if (positionals.length !== 1 || positionals[0] !== "generate") {
    throw new UsageError("keys has one subcommand: generate.");
  }
  const dir = resolve(io.cwd, values.out ?? ".");
  await mkdir(dir, { recursive: true });
  // CloudFront accepts 2048-bit RSA public keys.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const privatePath = join(dir, "private_key.pem");
  const publicPath = join(dir, "public_key.pem");
  const configPath = join(dir, "public-key-config.json");
  const stamp = io.now().toISOString().slice(0, 19).replace(/[-:]/g, "");
  await writeNew(privatePath, privateKey, 0o600);
  await writeNew(publicPath, publicKey, 0o644);
  await writeNew(
    configPath,
    `${JSON.stringify({ CallerReference: `handout-${stamp}`, Name: `handout-${stamp}`, EncodedKey: publicKey }, null, 2)}\n`,
    0o644,
  );

  io.out(`Wrote a new RSA-2048 key pair:
  ${privatePath}  (private, mode 0600: keep it secret)
  ${publicPath}

${publicKey}
Next steps:
  1. Register the public key with CloudFront; note the Id it prints (K…):
       aws cloudfront create-public-key --public-key-config file://${configPath}
  2. Put it in a key group, and make your distribution's behaviour trust that group
     (Restrict viewer access → Trusted key groups):
       aws cloudfront create-key-group --key-group-config '{"Name":"handout","Items":["K…"]}'
  3. Store the private key in Secrets Manager, with the key ID beside it:
       aws secretsmanager create-secret --name handout/cloudfront-private-key \\
         --secret-string "$(node -e 'const fs=require("fs");process.stdout.write(JSON.stringify({privateKey:fs.readFileSync(process.argv[1],"utf8"),keyPairId:process.argv[2]}))' ${privatePath} K…)"
  4. Configure Handout:
       CLOUDFRONT_PRIVATE_KEY_SECRET_ID=handout/cloudfront-private-key
       CLOUDFRONT_PUBLIC_KEY_ID=K…
  5. Delete the local private key once it is stored: rm ${privatePath}
`);
  return 0;
}
