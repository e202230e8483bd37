// Loaded with `node --import` before Portkey's start script (bench/servers.py):
// 1. Portkey listens on every interface; the benchmark keeps it on loopback.
// 2. On this machine's Node 20, Portkey 1.15 answers 500 ("TypeError: immutable") to OpenAI and Anthropic
//    streams: it appends its own headers to the upstream's fetch() response, whose headers undici keeps
//    immutable. fetch() here returns the same response with a mutable copy of its headers (the body is
//    the same stream, not copied).
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number") {
    return listen.call(this, args[0], "127.0.0.1", ...args.slice(typeof args[1] === "string" ? 2 : 1));
  }
  if (args[0] && typeof args[0] === "object" && !args[0].host && !args[0].path) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};

const upstreamFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const response = await upstreamFetch(...args);
  const copy = new Response(response.body, {
    status: response.status, statusText: response.statusText, headers: new Headers(response.headers),
  });
  Object.defineProperty(copy, "url", { value: response.url });
  return copy;
};
