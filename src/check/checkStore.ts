import { readEntity, statusOf, tableClientFor, TableStore } from '../storage/clients';
import type { StorageConnection } from '../storage/connection';
import type { CheckResult, CheckStatus, CheckTarget } from './checkResult';

const partition = 'check';
/** One row per deployment whose check has been claimed (see claimDeployment). */
const deploymentPartition = 'deployment';

interface CheckEntity {
    partitionKey: string;
    rowKey: string;
    Status: CheckStatus;
    Summary: string;
    CheckedAt: string;
    /** The check has failed since then, in every run; cleared when it passes. What the alert event is keyed by. */
    FailingSince?: string;
    LastOkAt?: string;
    /** When the destination last took a lead, as the check found it in the delivery records. */
    LastDeliveredAt?: string;
}

/** What the console shows of a target's last check. */
export interface StoredCheck extends CheckResult {
    failingSince?: string;
    lastOkAt?: string;
    lastDeliveredAt?: string;
}

/** CHECKS_TABLE: one row per checked target (PartitionKey `check`, RowKey its name), overwritten by each check. */
export class CheckStore extends TableStore {
    static async connect(connection: StorageConnection | string, tableName: string): Promise<CheckStore> {
        return new CheckStore(await tableClientFor(connection, tableName));
    }

    /** Writes the result over the last one; answers since when the target has been failing (this check's time for a new spell). */
    async save(result: CheckResult, lastDeliveredAt?: string): Promise<StoredCheck> {
        await this.ensureTable();
        const before = await readEntity<CheckEntity>(this.client, partition, result.target);
        const failing = result.status === 'failing';
        const failingSince = failing ? before?.FailingSince || result.checkedAt : undefined;
        const lastOkAt = result.status === 'ok' ? result.checkedAt : before?.LastOkAt || undefined;
        const entity: CheckEntity = {
            partitionKey: partition,
            rowKey: result.target,
            Status: result.status,
            Summary: result.summary,
            CheckedAt: result.checkedAt,
            FailingSince: failingSince ?? '',
            LastOkAt: lastOkAt ?? '',
            LastDeliveredAt: lastDeliveredAt ?? before?.LastDeliveredAt ?? '',
        };
        await this.client.upsertEntity(entity, 'Replace');
        return { ...result, ...(failingSince ? { failingSince } : {}), ...(lastOkAt ? { lastOkAt } : {}), ...(entity.LastDeliveredAt ? { lastDeliveredAt: entity.LastDeliveredAt } : {}) };
    }

    /**
     * Claims the check after a deployment for this instance: true for the first instance that asks
     * for this deployment id, false for every other (restarts and scale-outs of the same package).
     */
    async claimDeployment(deploymentId: string, at = new Date()): Promise<boolean> {
        await this.ensureTable();
        try {
            await this.client.createEntity({ partitionKey: deploymentPartition, rowKey: deploymentId, ClaimedAt: at.toISOString() });
            return true;
        } catch (error) {
            if (statusOf(error) === 409) return false;
            throw error;
        }
    }

    /** Every target's last check, by name; none before the first check made the table. */
    async list(): Promise<StoredCheck[]> {
        const found: StoredCheck[] = [];
        try {
            for await (const row of this.client.listEntities<CheckEntity>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) {
                found.push({
                    target: row.rowKey as CheckTarget,
                    status: row.Status,
                    summary: row.Summary,
                    checkedAt: row.CheckedAt,
                    ...(row.FailingSince ? { failingSince: row.FailingSince } : {}),
                    ...(row.LastOkAt ? { lastOkAt: row.LastOkAt } : {}),
                    ...(row.LastDeliveredAt ? { lastDeliveredAt: row.LastDeliveredAt } : {}),
                });
            }
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        return found.sort((a, b) => a.target.localeCompare(b.target));
    }
}
