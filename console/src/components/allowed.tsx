/**
 * Hides what the signed-in user may not do on a registered model: its permission is asked once per
 * model (AuthService.GetMyPermissions) and decided by lib/model-permission.ts. Without
 * authentication everything is allowed; while the answer is pending, or if asking fails, the
 * actions stay hidden (the server would refuse them anyway).
 */
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ResourceKind } from "../../../gen/mlpipe/auth/v1/policy_pb.js";
import { useClients } from "../api/console-clients.js";
import { type ModelPermission, nothingAllowed, unrestricted } from "../lib/model-permission.js";
import { useSession } from "./use-session.js";

/** The current user's permission on registered model `name`. */
export function useModelPermission(name: string): ModelPermission {
  const { auth } = useClients();
  const session = useSession();
  const principal = session.kind === "signed-in" ? session.principal : undefined;
  const query = useQuery({
    queryKey: ["my-permissions", principal, "registered_model", name],
    enabled: principal !== undefined,
    queryFn: async ({ signal }) => {
      const answer = await auth.getMyPermissions(
        { resourceKind: ResourceKind.REGISTERED_MODEL, resourceIds: [name] },
        { signal },
      );
      const held = answer.permissions.find((p) => p.resourceId === name)?.permission;
      return held === undefined ? nothingAllowed : { held, production: answer.productionPermission };
    },
  });
  if (session.kind === "open") return unrestricted;
  return query.data ?? nothingAllowed;
}

/** Renders `children` only when `allowed` (a decision of lib/model-permission.ts). */
export function Allowed(props: { readonly allowed: boolean; readonly children: ReactNode }) {
  return props.allowed ? props.children : null;
}
