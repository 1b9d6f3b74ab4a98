// Starts a TypeScript module in a worker thread: worker threads do not inherit tsx's loader on Node 20.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
