// Whether this machine has the IPv6 loopback address (containers may have IPv6 disabled).
import { networkInterfaces } from 'node:os';

export function hasIPv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6' && a.address === '::1'));
}
