/** What a command may touch, passed in so that tests run commands in-process. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
  out(text: string): void;
  err(text: string): void;
}

/** Bad arguments: the command prints usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
