import type { Azurite } from '../src/host/azurite';
import { json, startTestServer } from '../test/helpers/httpServer';
import { measureLeadCost, measureIdleCost, type IdleCost, type LeadCost } from '../test/helpers/leadCost';
import { round } from './stats';

/** Work requests per lead, by operation, over intake, delivery and one notification run. */
function perLead(cost: LeadCost): Record<string, number> {
    const all: Record<string, number> = {};
    for (const stage of [cost.intake, cost.delivery, cost.notify]) {
        for (const [operation, count] of Object.entries(stage.work)) all[operation] = round((all[operation] ?? 0) + count / cost.leads, 3);
    }
    return all;
}

/**
 * Storage requests per lead, end to end, counted by a proxy in front of Azurite (see
 * test/helpers/leadCost.ts): the default route and one with a webhook besides, and what an idle app
 * costs an hour (queue polls and timer runs) with each of those routings.
 */
export async function benchStorageCost(azurite: Azurite, leads: number) {
    const table = await measureLeadCost(azurite, { leads, destinations: ['table'] });
    const webhook = await startTestServer((_, res) => json(res, 200, { ok: true }));
    let withWebhook: LeadCost;
    let idleWebhook: IdleCost;
    try {
        const webhookSettings = { WEBHOOK_URL: `${webhook.url}/leads` };
        withWebhook = await measureLeadCost(azurite, { leads, destinations: ['table', 'webhook'], env: webhookSettings });
        idleWebhook = await measureIdleCost(azurite, { ...webhookSettings, LEAD_DESTINATIONS: 'table,webhook' });
    } finally {
        await webhook.close();
    }
    // The default routing (LEAD_DESTINATIONS=table): the leads queue and the table's.
    const idle = await measureIdleCost(azurite);
    return {
        callsPerLead: round(table.callsPerLead, 3),
        callsPerLeadWebhook: round(withWebhook.callsPerLead, 3),
        extraPerDestination: round(withWebhook.callsPerLead - table.callsPerLead, 3),
        byOperation: perLead(table),
        byOperationWebhook: perLead(withWebhook),
        notifyRunCalls: table.notify.total,
        leads,
        idle,
        idleWebhook,
    };
}
