// Drives mcp-run with the official MCP TypeScript SDK client: connect,
// list the tools, call both, read the results.  Run as
//   node sdk-client.mjs URL EXECUTABLE MODE
// where MODE is "sse" (the SDK's own Accept header, so tool calls come
// back as event streams) or "json" (Accept: application/json only).
import assert from "node:assert/strict";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, executable, mode] = process.argv.slice(2);
const seenTypes = new Set();

// Records the response types; in json mode the requests accept JSON only.
async function recordingFetch(input, init) {
  const headers = new Headers(init?.headers);
  if (mode === "json" && headers.has("accept") && init?.method === "POST") {
    headers.set("accept", "application/json");
  }
  const response = await fetch(input, { ...init, headers });
  if (init?.method === "POST" && response.status === 200) {
    seenTypes.add(response.headers.get("content-type"));
  }
  return response;
}

const transport = new StreamableHTTPClientTransport(new URL(url), {
  fetch: recordingFetch,
});
const client = new Client({ name: "cladding-sdk-test", version: "1.0.0" });
await client.connect(transport);

assert.equal(client.getServerVersion().name, "mcp-run");

const { tools } = await client.listTools();
assert.deepEqual(
  tools.map((t) => t.name),
  ["run_command", "check_command"],
);

const run = await client.callTool({
  name: "run_command",
  arguments: { executable, args: ["printf", "smoke"] },
});
assert.equal(run.isError, false);
assert.deepEqual(run.structuredContent, {
  stdout: "smoke",
  stderr: "",
  exitCode: 0,
});
assert.equal(run.content[0].type, "text");

const check = await client.callTool({
  name: "check_command",
  arguments: { executable },
});
assert.equal(check.isError, false);
assert.equal(check.structuredContent.allowed, true);
assert.equal(check.structuredContent.executable, executable);
assert.equal(check.structuredContent.policyMode, "rego");
assert.equal(check.structuredContent.hash.length, 64);

const denied = await client.callTool({
  name: "run_command",
  arguments: { executable: "/no/such/program" },
});
assert.equal(denied.isError, true);
assert.match(denied.content[0].text, /^Failed to resolve executable path/);

if (mode === "sse") {
  assert.ok(seenTypes.has("text/event-stream"), [...seenTypes].join(", "));
} else {
  assert.ok(!seenTypes.has("text/event-stream"), [...seenTypes].join(", "));
}
assert.ok(seenTypes.has("application/json"));

await transport.terminateSession();
await client.close();
console.log(`ok: ${mode} client listed and called both tools`);
