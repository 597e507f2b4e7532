/*
 * Runs Azurite in a child process that ends with its parent: the parent holds this process's
 * stdin, and when the parent exits, even by SIGKILL, the pipe closes and Azurite shuts down
 * cleanly instead of living on with the ports.
 *
 * On a signal, stdin is let go too: Azurite closes and saves what it has acknowledged, and the
 * process then ends by itself. Held open, it kept the process alive until the parent killed it
 * five seconds later, on every stop.
 *
 * Azurite writes its data to disk every five seconds, and on close. Its close logs first: with the
 * parent gone, stdout and stderr are broken pipes, and that log's EPIPE ended the process before
 * it saved, losing the last seconds of writes (a digest written down, its lease, the progress
 * after it), so a restart mailed those leads again under a new Message-ID. Nothing reads these
 * streams any more by then, so their errors are dropped.
 */
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

function shutDown(): void {
    process.stdin.destroy();
}
process.once('SIGINT', shutDown);
process.once('SIGTERM', shutDown);
process.stdin.on('end', () => process.kill(process.pid, 'SIGINT'));
process.stdin.resume();
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the stdin watch is set up; it has no typings
require('azurite/dist/src/azurite.js');
