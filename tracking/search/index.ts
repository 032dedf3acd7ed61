export { searchExperimentIds } from "./experiment-search.js";
export { experimentSearchSpec } from "./experiment-search-spec.js";
export type { ComparisonOp, FilterExpr, FilterValue } from "./filter-ast.js";
export { maxFilterDepth, maxFilterLength, parseFilter } from "./filter-parser.js";
export type { OrderKey } from "./order-by.js";
export { maxOrderByClauses, parseOrderBy } from "./order-by.js";
export { maxSearchExperiments, searchRunIds } from "./run-search.js";
export { runSearchSpec, runStatuses } from "./run-search-spec.js";
export type { SearchSpec } from "./search-spec.js";
