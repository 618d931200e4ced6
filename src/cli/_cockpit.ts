/** `knarr serve`'s cockpit: the node's web page on `[cockpit] port`, behind the stored token. */
import { CockpitServer } from "../cockpit/mod.ts";
import type { KnarrConfig } from "../config/mod.ts";
import { NodeCockpit } from "../node/mod.ts";
import type { KnarrNode } from "../node/mod.ts";
import { loadOrCreateCockpitToken } from "../store/mod.ts";
import type { Logger } from "../util/mod.ts";

/** The cockpit's view of the node, and its server when one listens. */
export interface ServeCockpit extends AsyncDisposable {
  /** What the page shows; serve adds reachability, UPnP, reloads and the relay. */
  view: NodeCockpit;
  /** The server, or null when `[cockpit] port = 0` or its port was taken. */
  server: CockpitServer | null;
}

/**
 * Starts the cockpit unless it is disabled. A port that cannot be bound is one warning:
 * the node runs on without its page.
 */
export async function startCockpit(
  node: KnarrNode,
  config: KnarrConfig,
  logger: Logger,
  version: string,
): Promise<ServeCockpit> {
  const view = new NodeCockpit(node, { version });
  let server: CockpitServer | null = null;
  if (config.cockpit.port !== null) {
    try {
      server = await CockpitServer.start(view, {
        token: loadOrCreateCockpitToken(node.db),
        host: config.cockpit.host,
        port: config.cockpit.port,
        logger: logger.child("cockpit"),
      });
    } catch (error) {
      logger.warn(
        `${
          (error as Error).message
        }; running without the cockpit (set [cockpit] port or --cockpit-port)`,
      );
    }
  }
  return {
    view,
    server,
    [Symbol.asyncDispose]: async () => {
      await server?.close();
    },
  };
}
