/**
 * The running loops of a fleet or a group. Visibility answers when the namespace has the label
 * search attributes (MtfFleet, MtfGroup); without them each running loop's own config says, one
 * bounded `get_status` each: slower, but the same answer, as the loops run without their
 * attributes there.
 *
 * Visibility is eventually consistent: a loop started a moment ago may take a second to be listed.
 */
import type { Client } from '@temporalio/client';
import type { TemporalTarget } from '../client/connection';
import { listLoops } from '../client/loops';
import { missingSearchAttributes } from '../client/search-attributes';
import { mapLimit } from '../lib/concurrency';
import { FLEET, GROUP } from '../shared/search-attributes';
import { messageOf } from '../lib/errors';
import { warn } from './output';
import { statusWithin } from './temporal';

/** More loops than any namespace of this service holds; the listing pages through them. */
const MAX_LISTED = 10_000;
/** Status queries at once when the namespace cannot list by label. */
const QUERIES_AT_ONCE = 16;

export type Label = { fleet: string } | { group: string };

export function labelText(label: Label): string {
  return 'fleet' in label ? `fleet ${label.fleet}` : `group ${label.group}`;
}

/**
 * IDs of the open loops carrying `label`, in visibility's order (newest first). `missing`: the
 * attributes the namespace lacks, when the caller has read them already.
 */
export async function labelledLoops(client: Client, target: TemporalTarget, label: Label, missing?: readonly string[]): Promise<string[]> {
  missing ??= await missingSearchAttributes(client.connection.operatorService, target.namespace);
  const attribute = 'fleet' in label ? FLEET : GROUP;
  if (!missing.includes(attribute.name)) {
    const listed = await listLoops(client, MAX_LISTED, { running: true, ...label });
    return unique(listed.map((loop) => loop.workflowId));
  }
  const running = unique((await listLoops(client, MAX_LISTED, { running: true })).map((loop) => loop.workflowId));
  const labels = await mapLimit(running, QUERIES_AT_ONCE, async (id) => {
    try {
      const { config } = await statusWithin(client, id, target);
      return ('fleet' in label ? config.fleet === label.fleet : config.group === label.group) ? id : null;
    } catch (err) {
      // Not silently left out: the operator learns which loop could not be told apart.
      warn(`warning: loop ${id} did not say its labels (${messageOf(err)}); it is left out of ${labelText(label)}`);
      return null;
    }
  });
  return labels.filter((id): id is string => id !== null);
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
