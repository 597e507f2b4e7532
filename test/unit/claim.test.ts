import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideClaim, type ClaimMessage, type ClaimRecord } from '../../src/deliver/claim';
import { CircuitBreaker, circuitTimings } from '../../src/deliver/circuitBreaker';
import { readSettings } from '../../src/config/settings';
import { versionOrder } from '../../src/lead/version';
import { leasedEntity } from '../../src/deliver/deliveryLog';

const now = Date.parse('2026-11-22T12:00:00.000Z');
const later = new Date(now + 60_000).toISOString();
const earlier = new Date(now - 60_000).toISOString();

/** Storage's time of a POST, with the receiving instance's (which may be minutes off) after it. */
function order(queuedAt: string, receivedAt = queuedAt): string {
    return versionOrder({ queuedAt, receivedAt });
}

function record(changes: Partial<ClaimRecord> = {}): ClaimRecord {
    const versionAt = changes.versionAt ?? '2026-11-22T11:00:00.000Z';
    return {
        state: 'failed',
        ticket: 1,
        receiptId: 'r1',
        version: 'v1',
        versionAt,
        versionOrder: order(versionAt),
        seenVersions: [changes.version ?? 'v1'],
        deliveredVersion: '',
        scheduled: 2,
        poisoned: false,
        ...changes,
    };
}

function message(changes: Partial<ClaimMessage> = {}): ClaimMessage {
    return { version: 'v1', order: order('2026-11-22T11:00:00.000Z'), receiptId: 'r1', ticket: 1, replay: false, ...changes };
}

describe('who delivers: decideClaim', () => {
    it('lets the first copy of a lead deliver, as a create', () => {
        assert.deepEqual(decideClaim(undefined, message(), now), { kind: 'acquire', mode: 'create' });
    });

    it('drops the original of a retry whose next link is on the queue (a crash between sending it and deleting the original)', () => {
        assert.deepEqual(decideClaim(record({ scheduled: 2 }), message({ ticket: 1 }), now), { kind: 'stale' });
    });

    it('lets only one of two copies of the next link deliver: the second waits, then is stale', () => {
        const first = decideClaim(record({ scheduled: 2 }), message({ ticket: 2 }), now);
        assert.deepEqual(first, { kind: 'acquire', mode: 'create' });
        const taken = record({ state: 'pending', ticket: 2, leaseUntil: later, scheduled: 0 });
        assert.deepEqual(decideClaim(taken, message({ ticket: 2 }), now), { kind: 'busy' });
        assert.deepEqual(decideClaim(record({ ticket: 2, scheduled: 3 }), message({ ticket: 2 }), now), { kind: 'stale' });
    });

    it('drops a duplicate poison-bound link, and lets a replay (the next ticket) deliver again', () => {
        const poisoned = record({ ticket: 3, scheduled: 0, poisoned: true });
        assert.deepEqual(decideClaim(poisoned, message({ ticket: 3 }), now), { kind: 'stale' });
        assert.deepEqual(decideClaim(poisoned, message({ ticket: 4, replay: true }), now), { kind: 'acquire', mode: 'create' });
    });

    it('takes over from a copy that died mid-attempt once its lease has run out, not before', () => {
        assert.deepEqual(decideClaim(record({ state: 'pending', leaseUntil: later, scheduled: 0 }), message(), now), { kind: 'busy' });
        assert.deepEqual(decideClaim(record({ state: 'pending', leaseUntil: earlier, scheduled: 0 }), message(), now), { kind: 'acquire', mode: 'create' });
    });

    it('redoes an attempt that failed before it could schedule the next link', () => {
        assert.deepEqual(decideClaim(record({ scheduled: 0 }), message(), now), { kind: 'acquire', mode: 'create' });
    });

    it('only counts an identical repeat, at a destination that has it or a chain that is still trying', () => {
        assert.deepEqual(decideClaim(record({ state: 'delivered', deliveredVersion: 'v1' }), message({ receiptId: 'r2' }), now), { kind: 'repeat' });
        assert.deepEqual(decideClaim(record({ scheduled: 2 }), message({ receiptId: 'r2' }), now), { kind: 'repeat' });
    });

    it('starts a fresh chain for a repeat of a lead whose chain gave up', () => {
        assert.deepEqual(decideClaim(record({ poisoned: true, scheduled: 0 }), message({ receiptId: 'r2' }), now), { kind: 'acquire', mode: 'create' });
    });

    it('delivers newer content as an update, after the delivery under way', () => {
        const delivered = record({ state: 'delivered', deliveredVersion: 'v1' });
        const update = message({ version: 'v2', receiptId: 'r2', order: order('2026-11-22T11:30:00.000Z') });
        assert.deepEqual(decideClaim(delivered, update, now), { kind: 'acquire', mode: 'update' });
        assert.deepEqual(decideClaim({ ...delivered, state: 'pending', leaseUntil: later }, update, now), { kind: 'busy' });
    });

    it("numbers a new chain's links afresh: an update that takes over a chain at ticket 2 and dies is taken over by its own message", () => {
        const before = { partitionKey: 'lead', rowKey: 'hubspot', State: 'failed' as const, Attempts: 2, Ticket: 2, ReceiptId: 'r1', Version: 'v1', VersionAt: '2026-11-22T11:00:00.000Z', Scheduled: 3, UpdatedAt: '' };
        const update = { leadId: 'lead', destination: 'hubspot' as const, version: 'v2', receivedAt: '2026-11-22T11:30:00.000Z', order: order('2026-11-22T11:30:00.000Z'), receiptId: 'r2', ticket: 1, replay: false };
        const taken = leasedEntity(update, before, false, 1000, new Date(now - 60_000));
        assert.equal(taken.Ticket, 1);
        const died = record({
            state: 'pending',
            leaseUntil: taken.LeaseUntil,
            ticket: taken.Ticket ?? 0,
            receiptId: 'r2',
            version: 'v2',
            versionAt: update.receivedAt,
            seenVersions: ['v1', 'v2'],
            deliveredVersion: 'v1',
            scheduled: 0,
        });
        assert.equal(taken.Versions, 'v1,v2');
        assert.deepEqual(decideClaim(died, message({ version: 'v2', receiptId: 'r2', order: update.order, ticket: 1 }), now), { kind: 'acquire', mode: 'update' });
        assert.deepEqual(decideClaim(died, message({ ticket: 3 }), now), { kind: 'repeat' }, "the old chain's next link is older content");
    });

    it('never delivers older content over newer: a late old version only counts', () => {
        const newer = record({ state: 'delivered', version: 'v2', versionAt: '2026-11-22T11:30:00.000Z', deliveredVersion: 'v2' });
        assert.deepEqual(decideClaim(newer, message({ version: 'v1', order: order('2026-11-22T11:00:00.000Z') }), now), { kind: 'repeat' });
    });

    it("orders versions by storage's time, not the receiving instance's clock: an update taken by an instance 5 minutes behind is an update", () => {
        // v1 taken by A at 11:00:00 (A's clock and storage agree); v2 by B two seconds later, B's clock saying 10:55:02.
        const first = record({ state: 'delivered', versionOrder: order('2026-11-22T11:00:00.000Z', '2026-11-22T11:00:00.300Z'), deliveredVersion: 'v1' });
        const update = message({ version: 'v2', receiptId: 'r2', order: order('2026-11-22T11:00:02.000Z', '2026-11-22T10:55:02.300Z') });
        assert.deepEqual(decideClaim(first, update, now), { kind: 'acquire', mode: 'update' });
        // The other way round: v2 already there, v1 arriving late from the instance that runs ahead.
        const second = record({ state: 'delivered', version: 'v2', versionOrder: update.order, seenVersions: ['v2'], deliveredVersion: 'v2' });
        assert.deepEqual(decideClaim(second, message({ order: order('2026-11-22T11:00:00.000Z', '2026-11-22T11:04:59.000Z') }), now), { kind: 'repeat' });
    });

    it('takes a version seen before for a repeat, never an update: v1, v2, then v1 again (a sender retrying the first POST)', () => {
        const atV2 = record({ state: 'delivered', version: 'v2', versionOrder: order('2026-11-22T11:30:00.000Z'), seenVersions: ['v1', 'v2'], deliveredVersion: 'v2' });
        assert.deepEqual(decideClaim(atV2, message({ version: 'v1', receiptId: 'r3', order: order('2026-11-22T11:45:00.000Z') }), now), { kind: 'repeat' });
        assert.deepEqual(decideClaim(atV2, message({ version: 'v1', receiptId: 'r3', order: order('2026-11-22T11:45:00.000Z'), ticket: 2, replay: true }), now), { kind: 'repeat' });
        assert.deepEqual(decideClaim(atV2, message({ version: 'v3', receiptId: 'r4', order: order('2026-11-22T11:45:00.000Z') }), now), { kind: 'acquire', mode: 'update' });
    });

    it('keeps what a record from before versions delivered: a repeat, not an update', () => {
        assert.deepEqual(decideClaim(record({ state: 'delivered', version: '', versionAt: '', deliveredVersion: '?' }), message({ version: 'v9', receiptId: 'r2' }), now), { kind: 'repeat' });
    });

    it('leaves an uncertain delivery alone unless an operator replays it', () => {
        const uncertain = record({ state: 'uncertain', poisoned: true, scheduled: 0 });
        assert.deepEqual(decideClaim(uncertain, message({ ticket: 1 }), now), { kind: 'repeat' });
        assert.deepEqual(decideClaim(uncertain, message({ ticket: 2, replay: true }), now), { kind: 'acquire', mode: 'create' });
    });
});

/** A webhook circuit with the timings these settings give (the defaults for `{}`). */
function breakerWith(env: Record<string, string>, now: () => number): CircuitBreaker {
    return new CircuitBreaker('webhook', circuitTimings(readSettings(env)), now);
}

describe('the circuit breaker', () => {
    it('opens after five transient failures in a row, lets one probe through when the pause ends, and closes when it succeeds', () => {
        let clock = 0;
        const breaker = breakerWith({}, () => clock);
        const changes = Array.from({ length: 5 }, () => breaker.failed());
        assert.deepEqual(changes.slice(0, 4), [undefined, undefined, undefined, undefined]);
        assert.match(changes[4] ?? '', /webhook destination's circuit is open \(it failed 5 times in a row\): its leads wait 30 s/);
        assert.deepEqual(breaker.admit(), { admitted: false, retryInMs: 30_000 });
        clock = 30_000;
        assert.deepEqual(breaker.admit(), { admitted: true, probe: true }, 'one probe');
        assert.equal(breaker.admit().admitted, false, 'the others wait for the probe');
        assert.match(breaker.failed() ?? '', /probe failed too\): its leads wait 60 s/);
        clock = 90_000;
        assert.deepEqual(breaker.admit(), { admitted: true, probe: true });
        assert.match(breaker.succeeded() ?? '', /answered again: its circuit is closed/);
        assert.deepEqual(breaker.admit(), { admitted: true, probe: false });
        assert.equal(breaker.succeeded(), undefined, 'nothing to say while closed');
    });

    it('lets the next lead probe when the admitted one made no call', () => {
        let clock = 0;
        const breaker = breakerWith({}, () => clock);
        for (let i = 0; i < 5; i++) breaker.failed();
        clock = 30_000;
        const probe = breaker.admit();
        assert.equal(probe.admitted, true);
        breaker.release(probe);
        assert.equal(breaker.admit().admitted, true, 'not stuck waiting for a probe that never called');
    });

    it('keeps the probe out when a lead admitted before the circuit opened gives its admission back', () => {
        let clock = 0;
        const breaker = breakerWith({}, () => clock);
        const earlier = breaker.admit();
        for (let i = 0; i < 5; i++) breaker.failed();
        clock = 30_000;
        assert.deepEqual(breaker.admit(), { admitted: true, probe: true });
        breaker.release(earlier);
        assert.equal(breaker.admit().admitted, false, 'a second probe while the first is out');
    });

    it("says when a destination's failing alert is due: ALERT_FAILING_MINUTES after its first failure, whichever leads were tried since", () => {
        let clock = 0;
        const breaker = breakerWith({}, () => clock);
        assert.equal(breaker.failingAlertDue(3), undefined);
        assert.equal(breaker.msUntilFailingAlert(3), undefined, 'not failing: nothing to wait for');
        breaker.failed('The webhook answered 503.');
        clock = 240_000;
        assert.equal(breaker.failingAlertDue(3), undefined, "closed: the lead's own retry chain is found failing at its attempts");
        clock = 0;
        breaker.succeeded();
        for (let i = 0; i < 5; i++) breaker.failed('The webhook answered 503.');
        clock = 30_000;
        assert.equal(breaker.admit().admitted, true);
        breaker.failed('The webhook answered 503 again.');
        assert.equal(breaker.failingAlertDue(3), undefined, 'a probe failing 30 s in: not yet');
        assert.equal(breaker.msUntilFailingAlert(3), 150_000, 'a waiting lead comes back when it is due');
        clock = 180_000;
        assert.deepEqual(breaker.failingAlertDue(3), { since: new Date(0).toISOString(), reason: 'The webhook answered 503 again.' }, 'due, with no attempt at that moment');
        breaker.markFailingAlerted();
        assert.equal(breaker.failingAlertDue(3), undefined, 'once per spell');
        assert.equal(breaker.msUntilFailingAlert(3), undefined);
        breaker.succeeded();
        clock = 400_000;
        for (let i = 0; i < 5; i++) breaker.failed('down again');
        clock = 580_000;
        assert.deepEqual(breaker.failingAlertDue(3), { since: new Date(400_000).toISOString(), reason: 'down again' }, 'a new spell after it answered');
    });
    it('a failing spell does not outlive quiet time: one failure a day ago, then five quick ones, is not failing for 3 minutes', () => {
        let clock = 0;
        const breaker = breakerWith({}, () => clock);
        // One 503 on this instance; the lead's retry succeeded on another instance, so this one never saw an answer.
        breaker.failed('The webhook answered 503.');
        clock = 86_400_000;
        // A day later the destination blips: five failures within a few seconds open the circuit.
        for (let i = 0; i < 5; i++) breaker.failed('The webhook answered 503.');
        assert.equal(breaker.isOpen, true);
        assert.equal(breaker.failingAlertDue(3), undefined, `failing for seconds, not 3 minutes: ${JSON.stringify(breaker.failingAlertDue(3))}`);
    });

    it('takes its timings from DELIVERY_CIRCUIT_FAILURES, DELIVERY_CIRCUIT_PAUSE_SECONDS and DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS', () => {
        let clock = 0;
        const breaker = breakerWith({ DELIVERY_CIRCUIT_FAILURES: '2', DELIVERY_CIRCUIT_PAUSE_SECONDS: '2', DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS: '3' }, () => clock);
        assert.equal(breaker.failed(), undefined);
        assert.match(breaker.failed() ?? '', /circuit is open \(it failed 2 times in a row\): its leads wait 2 s/);
        assert.deepEqual(breaker.admit(), { admitted: false, retryInMs: 2_000 });
        clock = 2_000;
        assert.equal(breaker.admit().admitted, true);
        assert.match(breaker.failed() ?? '', /probe failed too\): its leads wait 3 s/, 'doubling, but never past the longest pause');
        clock = 5_000;
        assert.equal(breaker.admit().admitted, true);
        assert.match(breaker.failed() ?? '', /its leads wait 3 s/);
    });

    it('never opens with DELIVERY_CIRCUIT_FAILURES=0: every lead spends its own attempts', () => {
        const breaker = breakerWith({ DELIVERY_CIRCUIT_FAILURES: '0' }, () => 0);
        for (let i = 0; i < 50; i++) assert.equal(breaker.failed('The webhook answered 503.'), undefined);
        assert.equal(breaker.isOpen, false);
        assert.deepEqual(breaker.admit(), { admitted: true, probe: false });
    });
});
