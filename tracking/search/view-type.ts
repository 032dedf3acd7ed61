import { commonErrors } from "../../core/errors/common-errors.js";
import { ViewType } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { LifecycleView } from "../../storage/query/search-sql.js";

/**
 * Maps a request's view type to the lifecycle stages searched: unspecified and ACTIVE_ONLY give
 * active rows, DELETED_ONLY deleted rows, ALL both. An unknown enum number (proto3 enums are open)
 * is INVALID_ARGUMENT naming `field`.
 */
export function lifecycleView(viewType: ViewType, field: string): LifecycleView {
  switch (viewType) {
    case ViewType.UNSPECIFIED:
    case ViewType.ACTIVE_ONLY:
      return "active";
    case ViewType.DELETED_ONLY:
      return "deleted";
    case ViewType.ALL:
      return "all";
    default:
      throw commonErrors.invalidArgument(field, `unknown view type ${String(viewType)}`);
  }
}
