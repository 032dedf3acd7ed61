/** Whether a listen address only accepts connections from this machine (servers warn when auth is off on any other). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
