import { defineConfig } from "vitest/config";

// Unit tests sit beside the source (*.test.ts); integration tests (real PostgreSQL, S3 server,
// sockets) are *.int.test.ts and get longer timeouts.
export default defineConfig({
  test: {
    include: [
      "{core,storage,auth,tracking,registry,server,gateway,app,cli,sdk,training,examples,bench,k8s,observability,test,console}/**/*.test.ts",
    ],
    // One temporary directory per run, removed at its end (test/support/temp-root.ts).
    globalSetup: ["test/support/temp-root.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
