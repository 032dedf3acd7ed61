/**
 * What tracking tells other domains about a run's artifact file: the model registry registers
 * versions from `runs:/<run_id>/<path>` through this interface, never by reading tracking's
 * tables (the composition root hands it the tracking store).
 */
export interface RunArtifactLookup {
  /**
   * Where a run keeps its artifacts and what the artifact index knows of one file of it (`path`
   * relative to the run's artifact root); undefined when the run does not exist (active or
   * deleted).
   */
  findRunArtifact(runId: string, path: string): Promise<RunArtifact | undefined>;
}

/** A run's artifact root and one file of its artifact index. */
export interface RunArtifact {
  /** Root URI of the run's artifacts. */
  readonly artifactUri: string;
  /** The file in the artifact index, or undefined when the run has no such file. */
  readonly file: { readonly size: number; readonly sha256: string } | undefined;
}
