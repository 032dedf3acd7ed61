import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import { type Experiment, LifecycleStage, type TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";

/**
 * The active experiment named `name`, created when there is none (a deleted experiment with the
 * name does not count: its name is free). Safe when several clients race to create it: the loser
 * of the race reads the winner's experiment.
 */
export async function getOrCreateExperiment(
  tracking: Client<typeof TrackingService>,
  name: string,
): Promise<Experiment> {
  const existing = await findActive(tracking, name);
  if (existing !== undefined) return existing;
  try {
    const created = (await tracking.createExperiment({ name })).experiment;
    if (created === undefined) {
      throw commonErrors.internal(new Error("the server answered CreateExperiment without an experiment"));
    }
    return created;
  } catch (err) {
    if (ConnectError.from(err).code !== Code.AlreadyExists) throw err;
    const winner = await findActive(tracking, name);
    if (winner === undefined) throw err;
    return winner;
  }
}

async function findActive(tracking: Client<typeof TrackingService>, name: string): Promise<Experiment | undefined> {
  try {
    const { experiment } = await tracking.getExperimentByName({ name });
    return experiment?.lifecycleStage === LifecycleStage.ACTIVE ? experiment : undefined;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}
