import { build } from "esbuild";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A package from node_modules, bundled as-is into one script that sets `window.Sentry`. */
export async function bundleForBrowser(module: string): Promise<string> {
  const out = await build({
    stdin: { contents: `export * from ${JSON.stringify(module)};`, resolveDir: process.cwd(), loader: "js" },
    bundle: true,
    format: "iife",
    globalName: "Sentry",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

/**
 * Serves a page that loads the real @sentry/browser from node_modules
 * (bundled as-is by esbuild into `window.Sentry`), on its own origin so the
 * SDK's requests to the relay are cross-origin as in production.
 */
export async function servePage(html: string, port = 0): Promise<{ origin: string; port: number; close(): Promise<void> }> {
  const script = await bundleForBrowser("@sentry/browser");
  const server: Server = createServer((req, res) => {
    if (req.url === "/sentry.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else if (req.url === "/" || req.url?.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html" }).end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
