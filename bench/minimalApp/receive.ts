import { QueueClient } from '@azure/storage-queue';
import { httpFunction } from '../../src/runtime/define';

/*
 * A baseline for the cold-start benchmark, not the app: the least a function behind the same local
 * host can do for a lead. It enqueues the body as base64 with the same SDK and answers 202, with no
 * parsing, validation or logging of its own. The queue is made once, on the first request.
 */
let ready: Promise<QueueClient> | undefined;

function queue(): Promise<QueueClient> {
    ready ??= (async () => {
        const client = new QueueClient(process.env.AzureWebJobsStorage ?? '', process.env.MINIMAL_QUEUE ?? 'minimal');
        await client.createIfNotExists();
        return client;
    })();
    return ready;
}

export const receive = httpFunction('receive', {
    route: 'leads',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: async (request) => {
        const body = Buffer.from(await request.arrayBuffer()).toString('base64');
        await (await queue()).sendMessage(body, { messageTimeToLive: -1 });
        return { status: 202 };
    },
});
