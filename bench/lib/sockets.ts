// The benchmark's WebSockets (a conversation's, or a user stream): opened with a bearer token, closed together.
import WebSocket from "ws";

/** Opens `path`, resolving at its `ready` frame; every frame, `ready` included, goes to `onFrame` with its arrival time. */
export function openSocket(url: string, path: string, token: string, onFrame: (data: string, at: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // Node's `ws` sends no Origin, as a server or mobile client: the bearer header is enough.
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    const timer = setTimeout(() => reject(new Error("no ready within 30 s")), 30_000);
    ws.on("message", (raw) => {
      const at = performance.now();
      const data = raw.toString();
      if (data.startsWith('{"type":"ready"')) {
        clearTimeout(timer);
        resolve(ws);
      }
      onFrame(data, at);
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on("error", reject);
    ws.on("close", (code) => reject(new Error(`closed before ready: ${code}`)));
  });
}

/** Closes every socket, waiting up to 2 s for each to finish closing. */
export async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.removeAllListeners("close");
          ws.on("close", () => resolve());
          ws.on("error", () => resolve());
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.close(1000);
          setTimeout(resolve, 2000);
        }),
    ),
  );
}
