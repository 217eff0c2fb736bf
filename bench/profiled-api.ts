// A REST contender reaches both projects through their gateways switched to
// one profile, sharing one link (stack/link.ts), as one user's connection
// carries both the reads from production and the writes to staging.
import type { GatewayProfile } from '../stack/gateway.ts';
import type { Project } from '../stack/index.ts';
import { Link } from '../stack/link.ts';

export interface ProfiledApi {
  /** Body bytes through both gateways since the profile was set. */
  traffic(): { bytesUp: number; bytesDown: number };
  /** Requests through both gateways since the profile was set, per path under /rest/v1 ('/rpc/supasync_range_sums'). */
  requests(): Record<string, number>;
  /** Back to the local profile. */
  stop(): void;
}

export function profileApi(production: Project, staging: Project, profile: GatewayProfile): ProfiledApi {
  const link = new Link();
  const gateways = [production.gateway, staging.gateway];
  for (const gateway of gateways) {
    gateway.setProfile(profile, link);
    gateway.resetStats();
  }
  return {
    traffic: () =>
      gateways.reduce(
        (sum, gateway) => {
          const { bytesUp, bytesDown } = gateway.stats();
          return { bytesUp: sum.bytesUp + bytesUp, bytesDown: sum.bytesDown + bytesDown };
        },
        { bytesUp: 0, bytesDown: 0 },
      ),
    requests: () => {
      const total: Record<string, number> = {};
      for (const gateway of gateways) for (const [path, n] of Object.entries(gateway.stats().requests)) total[path] = (total[path] ?? 0) + n;
      return total;
    },
    stop() {
      for (const gateway of gateways) gateway.setProfile('local');
    },
  };
}
