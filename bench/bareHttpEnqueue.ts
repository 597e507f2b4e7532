import { createServer } from 'node:http';
import { QueueClient } from '@azure/storage-queue';

/*
 * A baseline, not the app: the least an HTTP front of a queue can do. It reads the body and
 * enqueues it as base64 with the same SDK, with no parsing, validation or logging. The benchmark
 * runs it as its own process, as the app runs in the local host.
 */
const queue = new QueueClient(process.env.BARE_CONNECTION ?? '', 'bare-http');
const ready = queue.createIfNotExists();

const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
        ready
            .then(() => queue.sendMessage(Buffer.concat(chunks).toString('base64'), { messageTimeToLive: -1 }))
            .then(
                () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"x"}'),
                () => res.writeHead(503).end(),
            );
    });
});

server.listen(Number(process.env.PORT ?? 0), () => process.stdout.write('ready\n'));
process.on('SIGINT', () => server.close(() => process.exit(0)));
