import { afterAll } from "vitest";
import { removeTempFolders } from "./temp.js";

afterAll(removeTempFolders);
