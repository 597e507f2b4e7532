import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNcrontab } from '../../src/host/ncrontab';

const next = (expression: string, after: string) => parseNcrontab(expression).next(new Date(after))?.toISOString();

describe('NCRONTAB schedules', () => {
    it('runs every five minutes on the minute', () => {
        assert.equal(next('0 */5 * * * *', '2026-11-22T10:03:17Z'), '2026-11-22T10:05:00.000Z');
        assert.equal(next('0 */5 * * * *', '2026-11-22T10:05:00Z'), '2026-11-22T10:10:00.000Z');
    });

    it('runs every five seconds', () => {
        assert.equal(next('*/5 * * * * *', '2026-11-22T10:00:03.500Z'), '2026-11-22T10:00:05.000Z');
    });

    it('honours ranges, lists, names and days of the week', () => {
        assert.equal(next('0 30 9 * * MON-FRI', '2026-11-21T12:00:00Z'), '2026-11-23T09:30:00.000Z'); // a Saturday, then Monday
        assert.equal(next('0 0 8,20 * * *', '2026-11-22T09:00:00Z'), '2026-11-22T20:00:00.000Z');
        assert.equal(next('0 0 0 1 Jan *', '2026-11-22T00:00:00Z'), '2027-01-01T00:00:00.000Z');
        assert.equal(next('0 0 0 * * 7', '2026-11-22T00:00:00Z'), '2026-11-29T00:00:00.000Z'); // 7 is Sunday too
    });

    it('crosses month ends and leap days', () => {
        assert.equal(next('0 0 0 29 2 *', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
        assert.equal(next('0 0 12 31 * *', '2026-11-01T00:00:00Z'), '2026-12-31T12:00:00.000Z');
    });

    it('finds no occurrence for an impossible date', () => {
        assert.equal(next('0 0 0 30 2 *', '2026-01-01T00:00:00Z'), undefined);
    });

    it('explains a bad expression', () => {
        assert.throws(() => parseNcrontab('*/5 * * * *'), /needs 6 fields/);
        assert.throws(() => parseNcrontab('0 61 * * * *'), /"61" is not a minute/);
        assert.throws(() => parseNcrontab('0 0 * * Foo *'), /"Foo" is not a month/);
    });
});
